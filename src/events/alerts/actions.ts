import type { EventBus } from '../bus.js';
import type { SecurityEvent } from '../event.js';
import type { Store } from '../../stores/store.js';
import type { BanTarget } from '../../stages/ban/bans.js';
import { setThrottle } from '../../stages/rate-limit/penalty.js';
import { clientNetwork, DEFAULT_IPV6_PREFIX } from '../../server/client-network.js';
import type { AlertActionConfig, AlertGroup, CompiledRule } from './rules.js';

/** A throttle lasts this long unless the action says (`{ throttle: 0.1, for: 1h }`). */
export const DEFAULT_THROTTLE_MS = 15 * 60_000;
const API_KEY_SUBJECT = 'apikey:';

/** What an alert will do, decided before it is announced (so alert.fired can say it). */
export type PlannedAction =
  | { type: 'notify' }
  | { type: 'ban'; target: BanTarget; durationMs: number }
  | { type: 'throttle'; target: BanTarget; factor: number; durationMs: number }
  | { type: 'revokeKey'; keyId: string; subject: string }
  | { type: 'skipped'; action: 'ban' | 'throttle' | 'revokeKey'; reason: string };

/** The client an action can act on: the group when it is an address or a subject. */
export function clientOf(group: AlertGroup): BanTarget | undefined {
  if (group.field === 'source.ip') return { kind: 'ip', value: group.value };
  if (group.field === 'user.id') return { kind: 'identity', value: group.value };
  return undefined;
}

const NO_CLIENT = 'the alert is not about one client: group the rule by source.ip or user.id';

/**
 * Resolves `then:` against the alert's group. Actions on a client need the group to be one
 * (`by: source.ip` → the address; `by: user.id` → the subject; a count-1 rule with no `by` → the
 * event's own client). revokeKey needs an API-key subject (`apikey:<id>`, which is also the
 * subject of the tokens the token endpoint trades for a key). What cannot apply is listed as
 * skipped, with the reason, and never guessed.
 */
export function planActions(rule: CompiledRule, group: AlertGroup): PlannedAction[] {
  const out: PlannedAction[] = [];
  const client = clientOf(group);
  for (const a of rule.then) {
    if (a === 'notify') {
      out.push({ type: 'notify' });
      continue;
    }
    if ('ban' in a) {
      out.push(client ? { type: 'ban', target: client, durationMs: a.ban } : { type: 'skipped', action: 'ban', reason: NO_CLIENT });
      continue;
    }
    if (a.revokeKey === true) {
      if (client?.kind === 'identity' && client.value.startsWith(API_KEY_SUBJECT) && client.value.length > API_KEY_SUBJECT.length) {
        out.push({ type: 'revokeKey', keyId: client.value.slice(API_KEY_SUBJECT.length), subject: client.value });
      } else {
        out.push({ type: 'skipped', action: 'revokeKey', reason: client?.kind === 'identity' ? 'the subject is not an API key' : 'group the rule by user.id to revoke API keys' });
      }
    }
    if (a.throttle !== undefined) {
      out.push(client ? { type: 'throttle', target: client, factor: a.throttle, durationMs: a.for ?? DEFAULT_THROTTLE_MS } : { type: 'skipped', action: 'throttle', reason: NO_CLIENT });
    }
  }
  return out;
}

/** A short, secret-free description of a planned action, for alert.fired. */
export function describeAction(p: PlannedAction): Record<string, unknown> {
  switch (p.type) {
    case 'notify':
      return { type: 'notify' };
    case 'ban':
      return { type: 'ban', target: p.target.kind, durationMs: p.durationMs };
    case 'throttle':
      return { type: 'throttle', target: p.target.kind, factor: p.factor, durationMs: p.durationMs };
    case 'revokeKey':
      return { type: 'revokeKey', keyId: p.keyId };
    case 'skipped':
      return { type: p.action, skipped: p.reason };
  }
}

export interface ActionDeps {
  events: EventBus;
  store: Store;
  bans: { add(target: BanTarget, durationMs: number, reason: string): Promise<unknown> };
  apiKeys: {
    get(id: string): Promise<{ revokedAt?: string | undefined } | undefined>;
    revoke(id: string): Promise<unknown>;
  };
  /** `server.ipv6Prefix`: an address throttle covers the client's network, as limits count it. */
  ipv6Prefix?: number;
}

/**
 * Carries out the planned actions, each on its own: one failing (store away, key declared in the
 * config) is reported as `stage.error` (stage `alerts`) and the others still run. Their own events
 * say what happened: `ban.applied` (reason `alert:<rule>`), `key.revoked`. `notify` does nothing
 * here: alert.fired itself is the notification, delivered by the sinks (webhooks with a
 * minSeverity at or below the rule's severity).
 */
export async function runActions(rule: CompiledRule, plan: readonly PlannedAction[], trigger: SecurityEvent, deps: ActionDeps): Promise<void> {
  const reason = `alert:${rule.name}`;
  for (const p of plan) {
    try {
      if (p.type === 'ban') await deps.bans.add(p.target, p.durationMs, reason);
      else if (p.type === 'throttle') {
        const target = p.target.kind === 'ip' ? { kind: 'ip' as const, value: clientNetwork(p.target.value, deps.ipv6Prefix ?? DEFAULT_IPV6_PREFIX) } : p.target;
        await setThrottle(deps.store, target, p.factor, p.durationMs);
      }
      else if (p.type === 'revokeKey') await revoke(rule, p, trigger, deps);
    } catch (err) {
      deps.events.emit({
        action: 'stage.error', severity: 'high', outcome: 'failure', stage: 'alerts', rule: rule.name,
        reason: `action_failed_${p.type}`, message: `alert ${rule.name}: ${p.type} failed: ${err instanceof Error ? err.message.slice(0, 160) : 'unknown error'}`,
      });
    }
  }
}

async function revoke(rule: CompiledRule, p: Extract<PlannedAction, { type: 'revokeKey' }>, trigger: SecurityEvent, deps: ActionDeps): Promise<void> {
  const record = await deps.apiKeys.get(p.keyId);
  if (record?.revokedAt) return;
  const revoked = record ? await deps.apiKeys.revoke(p.keyId) : undefined;
  if (revoked === undefined) {
    // Unknown, or declared in the config file (those are revoked by editing the config).
    throw new Error(`API key ${p.keyId} is not in the state store (unknown, or declared in the config)`);
  }
  deps.events.emit({
    action: 'key.revoked', severity: 'high', outcome: 'success', reason: `alert:${rule.name}`, rule: rule.name, userId: p.subject,
    details: { keyId: p.keyId, trigger: trigger.event.action },
  });
}
