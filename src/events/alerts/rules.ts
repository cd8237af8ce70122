import { EVENT_ACTIONS, type EventAction, type SecurityEvent, type Severity } from '../event.js';

/** One `then:` entry as the config gives it (durations already in ms). */
export type AlertActionConfig =
  | 'notify'
  | { ban: number }
  | { revokeKey?: boolean | undefined; throttle?: number | undefined; for?: number | undefined };

/**
 * One `events.alerts[]` rule as the config gives it (durations in ms). Structural, so the
 * schema's output type is assignable to it whether or not its optional extensions (severity,
 * cooldown, spike, throttle `for`) are present.
 */
export interface AlertRule {
  name: string;
  when: {
    /** An action (`auth.failure`), or a prefix ending in `*` (`auth.*`, `*`). */
    event: string;
    /** Events needed within `within` (default 1). */
    count?: number | undefined;
    /** Window in ms (default 1 min). */
    within?: number | undefined;
    /** An ECS field path to group by (`source.ip`, `user.id`, `bulwark.route`, ...). */
    by?: string | undefined;
    /** Rate in the last `within` against the moving-average rate over `baseline`. */
    spike?: { factor?: number | undefined; baseline?: number | undefined; min?: number | undefined } | undefined;
  };
  severity?: Severity | undefined;
  /** One alert per rule and group per cooldown (default: `within`). */
  cooldown?: number | undefined;
  then: readonly AlertActionConfig[];
}

export interface SpikeSpec {
  factor: number;
  baselineMs: number;
  min: number;
}

/** A rule with its defaults applied and its event pattern resolved. */
export interface CompiledRule {
  name: string;
  pattern: string;
  actions: ReadonlySet<EventAction>;
  count: number;
  withinMs: number;
  by: string | undefined;
  /** No `by`, count 1, no spike: each event is an alert about its own client (see groupOf). */
  perClient: boolean;
  spike: SpikeSpec | undefined;
  severity: Severity;
  cooldownMs: number;
  then: readonly AlertActionConfig[];
}

export const DEFAULT_WITHIN_MS = 60_000;
export const DEFAULT_SPIKE: SpikeSpec = { factor: 3, baselineMs: 3_600_000, min: 10 };

/**
 * Actions a wildcard never matches: an alert counting alerts (or failed deliveries of alerts)
 * would feed itself. A rule that names one of them exactly still gets it.
 */
export const LOOP_ACTIONS: ReadonlySet<EventAction> = new Set(['alert.fired', 'alert.delivery_failed']);

/**
 * The event actions `pattern` selects: an exact action name, or a prefix ending in `*` (`auth.*`,
 * `ratelimit*`, `*`). Empty when it names nothing (a typo): the config should refuse it.
 */
export function matchActions(pattern: string): EventAction[] {
  if (!pattern.endsWith('*')) return (EVENT_ACTIONS as readonly string[]).includes(pattern) ? [pattern as EventAction] : [];
  const prefix = pattern.slice(0, -1);
  if (prefix.includes('*')) return [];
  return EVENT_ACTIONS.filter((a) => a.startsWith(prefix) && !LOOP_ACTIONS.has(a));
}

/** Why a rule cannot run, or undefined. For the config's validation (`superRefine`) too. */
export function alertRuleProblem(rule: AlertRule): string | undefined {
  if (matchActions(rule.when.event).length === 0) return `when.event "${rule.when.event}" names no event action (use an action such as auth.failure, or a prefix such as auth.*)`;
  if (rule.when.spike && rule.when.count !== undefined) return 'when.count and when.spike exclude each other';
  const within = rule.when.within ?? DEFAULT_WITHIN_MS;
  if (!(within > 0)) return 'when.within must be positive';
  if (rule.when.spike) {
    const baseline = rule.when.spike.baseline ?? DEFAULT_SPIKE.baselineMs;
    if (baseline < 2 * within) return 'when.spike.baseline must be at least twice when.within';
    if ((rule.when.spike.factor ?? DEFAULT_SPIKE.factor) <= 1) return 'when.spike.factor must be above 1';
  }
  if (rule.when.by !== undefined && !/^[@A-Za-z_][\w@]*(\.[\w@]+)*$/.test(rule.when.by)) return `when.by "${rule.when.by}" is not a field path such as source.ip`;
  if (rule.cooldown !== undefined && !(rule.cooldown > 0)) return 'cooldown must be positive';
  return undefined;
}

export function compileRule(rule: AlertRule): CompiledRule {
  const problem = alertRuleProblem(rule);
  if (problem) throw new Error(`alert "${rule.name}": ${problem}`);
  const withinMs = rule.when.within ?? DEFAULT_WITHIN_MS;
  const spike = rule.when.spike
    ? { factor: rule.when.spike.factor ?? DEFAULT_SPIKE.factor, baselineMs: rule.when.spike.baseline ?? DEFAULT_SPIKE.baselineMs, min: rule.when.spike.min ?? DEFAULT_SPIKE.min }
    : undefined;
  const count = spike ? 1 : rule.when.count ?? 1;
  return {
    name: rule.name,
    pattern: rule.when.event,
    actions: new Set(matchActions(rule.when.event)),
    count,
    withinMs,
    by: rule.when.by,
    perClient: rule.when.by === undefined && count === 1 && spike === undefined,
    spike,
    severity: rule.severity ?? 'high',
    cooldownMs: rule.cooldown ?? withinMs,
    then: rule.then,
  };
}

const MAX_GROUP_CHARS = 256;

/**
 * The value at an ECS field path (`source.ip`, `user.id`, `bulwark.route`, `event.reason`), as a
 * string; undefined when absent or not a scalar.
 */
export function fieldValue(event: SecurityEvent, path: string): string | undefined {
  let v: unknown = event;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  if (typeof v === 'string') return v === '' ? undefined : v.slice(0, MAX_GROUP_CHARS);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** What one alert is about: the field it was grouped by and its value (`*` when ungrouped). */
export interface AlertGroup {
  field: string;
  value: string;
}

export const UNGROUPED: AlertGroup = { field: '*', value: '*' };

/**
 * The group an event counts in for `rule`, or undefined when the event lacks the `by` field: such
 * an event is not counted at all. (Grouping them under a shared "none" would add up unrelated
 * clients into one count that no action could target.)
 *
 * A rule with no `by` counts all its events together, except with count 1 (every event is an
 * alert): there the event's own client is the group, user.id when authenticated, else source.ip,
 * so one client's alert neither mutes another's during the cooldown nor leaves the actions
 * without a target (`when: { event: extraction.suspected }, then: [{ throttle: 0.1 }]`).
 */
export function groupOf(rule: CompiledRule, event: SecurityEvent): AlertGroup | undefined {
  if (rule.by !== undefined) {
    const value = fieldValue(event, rule.by);
    return value === undefined ? undefined : { field: rule.by, value };
  }
  if (!rule.perClient) return UNGROUPED;
  if (event.user?.id) return { field: 'user.id', value: event.user.id };
  if (event.source?.ip) return { field: 'source.ip', value: event.source.ip };
  return UNGROUPED;
}

/** "90s", "15m", "1h": for alert messages. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`;
}
