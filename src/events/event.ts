import { randomUUID } from 'node:crypto';
/**
 * Security events: one JSON object per line with Elastic Common Schema field names, so any
 * SIEM ingests them without a parser. Bulwark-specific details live under `bulwark.*`.
 */
export const EVENT_ACTIONS = [
  'request.completed', 'auth.failure', 'auth.success', 'authz.denied', 'ratelimit.exceeded',
  'ban.applied', 'ban.lifted', 'route.unregistered', 'inventory.new_endpoint', 'inventory.drift',
  'input.invalid', 'prompt.injection', 'poison.quarantined', 'output.redacted', 'output.blocked',
  'canary.leaked', 'extraction.suspected', 'model.integrity_failed', 'model.integrity_ok',
  'config.reloaded', 'config.rejected', 'alert.fired', 'alert.delivery_failed', 'upstream.error',
  'tls.client_rejected', 'key.created', 'key.revoked',
  // Not in SPEC §4's list but needed by the core: a stage that throws, and the lifecycle.
  'stage.error', 'gateway.started', 'gateway.stopped', 'inventory.probe', 'inventory.overflow',
  // Bounded queues (issue 12): an upstream's connection queue, the gateway's in-flight bound.
  'upstream.saturated', 'gateway.saturated',
] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

/** ECS allows success|failure|unknown; `would_block` is Bulwark's monitor-mode outcome (SPEC §3). */
export type EventOutcome = 'success' | 'failure' | 'unknown' | 'would_block';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** Numeric ECS `event.severity`, on the scale Elastic's detection rules use. */
export const SEVERITY_SCORE: Record<Severity, number> = { low: 21, medium: 47, high: 73, critical: 99 };

const CATEGORY: Partial<Record<string, string[]>> = {
  auth: ['authentication'], authz: ['iam'], ratelimit: ['network'], ban: ['network'], route: ['web'],
  inventory: ['web'], input: ['web', 'intrusion_detection'], prompt: ['intrusion_detection'],
  poison: ['intrusion_detection'], output: ['intrusion_detection'], canary: ['intrusion_detection'],
  extraction: ['intrusion_detection'], model: ['file'], config: ['configuration'], alert: ['intrusion_detection'],
  upstream: ['network'], tls: ['network'], key: ['iam'], request: ['web'], stage: ['process'], gateway: ['process'],
};

export interface SecurityEvent {
  '@timestamp': string;
  /** `id`: unique per event (receivers de-duplicate webhook deliveries by it). */
  event: { id: string; kind: 'event' | 'alert'; category: string[]; action: EventAction; outcome: EventOutcome; severity: number; reason?: string };
  message?: string;
  source?: { ip: string };
  user?: { id: string };
  http?: { request: { method: string }; response?: { status_code: number } };
  url?: { path: string };
  rule?: { name: string };
  trace?: { id: string };
  bulwark: { severity: Severity; route?: string; code?: string; stage?: string; [key: string]: unknown };
}

/** What producers pass in; the bus fills in timestamp, category and the numeric severity. */
export interface EventInput {
  action: EventAction;
  outcome?: EventOutcome;
  severity?: Severity;
  reason?: string;
  message?: string;
  sourceIp?: string;
  userId?: string;
  method?: string;
  path?: string;
  status?: number;
  rule?: string;
  requestId?: string;
  route?: string;
  code?: string;
  stage?: string;
  /** Extra `bulwark.*` fields. Never put a raw credential, prompt or secret here. */
  details?: Record<string, unknown>;
}

const MAX_FIELD = 512;

/** Bounded, single-line strings: request data can never forge a log line or flood a sink. */
function clean(value: string): string {
  const s = value.length > MAX_FIELD ? value.slice(0, MAX_FIELD) + '…' : value;
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function buildEvent(input: EventInput, now: Date = new Date()): SecurityEvent {
  const severity = input.severity ?? 'low';
  const ev: SecurityEvent = {
    '@timestamp': now.toISOString(),
    event: {
      id: randomUUID(),
      kind: input.action === 'alert.fired' ? 'alert' : 'event',
      category: CATEGORY[input.action.split('.')[0] as string] ?? ['web'],
      action: input.action,
      outcome: input.outcome ?? 'unknown',
      severity: SEVERITY_SCORE[severity],
    },
  } as SecurityEvent;
  if (input.reason) ev.event.reason = clean(input.reason);
  if (input.message) ev.message = clean(input.message);
  if (input.sourceIp) ev.source = { ip: clean(input.sourceIp) };
  if (input.userId) ev.user = { id: clean(input.userId) };
  if (input.method) ev.http = { request: { method: clean(input.method) } };
  if (input.status !== undefined) (ev.http ??= { request: { method: '' } }).response = { status_code: input.status };
  // Paths only, never query strings: those carry credentials more often than anything else.
  if (input.path !== undefined) ev.url = { path: clean(input.path.split('?')[0] ?? '') };
  if (input.rule) ev.rule = { name: clean(input.rule) };
  if (input.requestId) ev.trace = { id: clean(input.requestId) };
  // bulwark.* last, so the ECS fields lead every line a person reads.
  ev.bulwark = { severity };
  if (input.route) ev.bulwark.route = input.route;
  if (input.code) ev.bulwark.code = input.code;
  if (input.stage) ev.bulwark.stage = input.stage;
  if (input.details) {
    for (const [k, v] of Object.entries(input.details)) {
      if (k === 'severity' || k === 'route' || k === 'code' || k === 'stage') continue;
      ev.bulwark[k] = typeof v === 'string' ? clean(v) : v;
    }
  }
  return ev;
}

export function severityAtLeast(sev: Severity, min: Severity | undefined): boolean {
  return min === undefined || SEVERITY_SCORE[sev] >= SEVERITY_SCORE[min];
}
