import type { EventAction, EventInput, EventOutcome, Severity } from '../events/event.js';
import type { EventBus } from '../events/bus.js';
import type { ErrorCode } from './errors.js';
import type { Deny } from './verdict.js';

/** The event a refusal produces when its stage did not name one. */
const DEFAULT_ACTION: Record<ErrorCode, { action: EventAction; severity: Severity }> = {
  ROUTE_NOT_FOUND: { action: 'route.unregistered', severity: 'medium' },
  INVALID_REQUEST: { action: 'input.invalid', severity: 'medium' },
  INVALID_INPUT: { action: 'input.invalid', severity: 'low' },
  REQUEST_TIMEOUT: { action: 'input.invalid', severity: 'low' },
  AUTH_REQUIRED: { action: 'auth.failure', severity: 'medium' },
  FORBIDDEN: { action: 'authz.denied', severity: 'medium' },
  BANNED: { action: 'ban.applied', severity: 'high' },
  RATE_LIMITED: { action: 'ratelimit.exceeded', severity: 'low' },
  PROMPT_INJECTION: { action: 'prompt.injection', severity: 'high' },
  QUARANTINED: { action: 'poison.quarantined', severity: 'medium' },
  OUTPUT_BLOCKED: { action: 'output.blocked', severity: 'high' },
  UPSTREAM_UNAVAILABLE: { action: 'upstream.error', severity: 'medium' },
  UPSTREAM_BUSY: { action: 'upstream.saturated', severity: 'medium' },
  GATEWAY_BUSY: { action: 'gateway.saturated', severity: 'high' },
  INTERNAL_ERROR: { action: 'stage.error', severity: 'high' },
};

export interface RefusalSubject {
  requestId: string;
  method: string;
  path: string;
  sourceIp: string;
  route?: string | undefined;
  userId?: string | undefined;
}

export function emitRefusal(events: EventBus, subject: RefusalSubject, verdict: Deny, outcome: EventOutcome, status: number): void {
  const def = DEFAULT_ACTION[verdict.code];
  const input: EventInput = {
    action: def.action,
    severity: def.severity,
    reason: verdict.detail,
    ...verdict.event,
    outcome,
    code: verdict.code,
    status,
    requestId: subject.requestId,
    method: subject.method,
    path: subject.path,
    sourceIp: subject.sourceIp,
  };
  if (subject.route !== undefined) input.route = subject.route;
  if (subject.userId !== undefined) input.userId = subject.userId;
  events.emit(input);
}
