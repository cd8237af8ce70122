/**
 * The fixed order every request crosses. The core owns connect, canonicalize, route, read-body,
 * upstream and audit; stages attach to the others.
 */
export const PHASES = [
  'connect', 'canonicalize', 'route', 'identify', 'authorize', 'limit', 'read-body',
  'inspect-request', 'upstream', 'inspect-response', 'audit',
] as const;
export type Phase = (typeof PHASES)[number];

/** Phases a stage may attach a request hook to. */
export const STAGE_REQUEST_PHASES = ['identify', 'authorize', 'limit', 'inspect-request'] as const;
export type StageRequestPhase = (typeof STAGE_REQUEST_PHASES)[number];
