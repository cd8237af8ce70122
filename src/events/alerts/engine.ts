import type { EventBus } from '../bus.js';
import type { EventAction, SecurityEvent } from '../event.js';
import type { Store } from '../../stores/store.js';
import { createMemoryStore } from '../../stores/memory-store.js';
import { Bans } from '../../stages/ban/bans.js';
import { clientNetwork, DEFAULT_IPV6_PREFIX } from '../../server/client-network.js';
import { ApiKeyStore } from '../../stages/auth/api-key-store.js';
import { describeAction, planActions, runActions, type ActionDeps } from './actions.js';
import { compileRule, formatDuration, groupOf, type AlertGroup, type AlertRule, type CompiledRule } from './rules.js';
import { SpikeTracker, type SpikeReading } from './spike.js';

export interface AlertEngineOptions {
  rules: readonly AlertRule[];
  events: EventBus;
  /** The gateway's state store: counts, de-duplication, bans, throttles and API keys live there. */
  store: Store;
  /** Clock for spike rates and local cool-downs (tests). Store windows use the store's clock. */
  now?: () => number;
  /** Defaults to the store's ban list (`new Bans(store, events, ipv6Prefix)`). */
  bans?: ActionDeps['bans'];
  /** Defaults to the store's API keys (`new ApiKeyStore(store)`). */
  apiKeys?: ActionDeps['apiKeys'];
  /** `server.ipv6Prefix` (default 64): address bans and throttles cover the client's network. */
  ipv6Prefix?: number;
}

export interface AlertEngine {
  /** Replaces the rules (config reload). Spike baselines of unchanged rules are kept. */
  update(rules: readonly AlertRule[]): void;
  /** Resolves once every event seen so far has been evaluated and its actions carried out. */
  idle(): Promise<void>;
  /** Stops listening; resolves when the work under way is done. */
  close(): Promise<void>;
}

interface RuleState {
  rule: CompiledRule;
  signature: string;
  spike: SpikeTracker | undefined;
}

// Bounds: events waiting for the store (a flood while Redis is slow drops evaluations rather than
// memory), and local cool-down marks.
const MAX_PENDING = 10_000;
const MAX_COOLING = 10_000;
const REPORT_EVERY_MS = 10_000;

/**
 * Alert rules (`events.alerts`) over the event bus.
 *
 * Threshold rules (`when: { event, count, within, by }`) count in the state store with
 * `Store.hit` (a sliding-window log capped at `count` entries per group): instances sharing Redis
 * count together, so a burst spread over several instances still fires, and a window survives a
 * config reload. Spike rules (`when: { event, spike: { factor, baseline, min }, within, by }`)
 * compare rates in process (see SpikeTracker): a ratio of rates holds on each instance of a
 * balanced cluster, and a per-event store write for a moving average would cost more than it
 * tells. One alert per rule and group per `cooldown` (default `within`): a mark in the store
 * (`setIfAbsent` with the cooldown as TTL) makes exactly one instance fire and act; a local mark
 * then keeps the rest of the cooldown off the store.
 *
 * On firing: `alert.fired` (event.kind `alert`, the rule's severity, default high) with the rule,
 * the group (field and value: an address or a subject id), the count, the window and the actions;
 * then the actions. It never carries a credential, a prompt or a canary: only what the triggering
 * events already carried in their ECS fields, which are secret-free by contract.
 *
 * A wildcard never matches `alert.fired` or `alert.delivery_failed` (no rule feeds on alerts
 * unless it names them). When the store fails, counting and de-duplication go on in this process
 * (reported as `stage.error`, stage `alerts`, at most every 10 s): detection degrades to
 * per-instance, never to silence.
 */
export function createAlertEngine(options: AlertEngineOptions): AlertEngine {
  const { events, store } = options;
  const clock = options.now ?? Date.now;
  const deps: ActionDeps = {
    events,
    store,
    bans: options.bans ?? new Bans(store, events, options.ipv6Prefix),
    apiKeys: options.apiKeys ?? new ApiKeyStore(store),
    ...(options.ipv6Prefix !== undefined ? { ipv6Prefix: options.ipv6Prefix } : {}),
  };
  let states: RuleState[] = [];
  let byAction = new Map<EventAction, RuleState[]>();
  let unsubscribe: (() => void) | undefined;
  let closed = false;
  const pending = new Set<Promise<void>>();
  const cooling = new Map<string, number>();
  let local: Store | undefined;
  const lastReport = new Map<string, number>();

  const report = (reason: string, message: string) => {
    if (closed) return;
    const now = Date.now();
    if (now - (lastReport.get(reason) ?? 0) < REPORT_EVERY_MS) return;
    lastReport.set(reason, now);
    events.emit({ action: 'stage.error', severity: 'high', outcome: 'failure', stage: 'alerts', reason, message });
  };

  async function withStore<T>(fn: (s: Store) => Promise<T>): Promise<T> {
    try {
      return await fn(store);
    } catch {
      report('store_unavailable_local', 'state store unavailable; alert rules count per instance until it returns');
      return fn((local ??= createMemoryStore()));
    }
  }

  const cool = (gid: string, until: number, now: number) => {
    if (cooling.size >= MAX_COOLING) {
      for (const [k, u] of cooling) if (u <= now) cooling.delete(k);
      if (cooling.size >= MAX_COOLING) {
        const oldest = cooling.keys().next().value;
        if (oldest !== undefined) cooling.delete(oldest);
      }
    }
    cooling.set(gid, until);
  };

  async function evaluate(st: RuleState, event: SecurityEvent): Promise<void> {
    const rule = st.rule;
    const found = groupOf(rule, event);
    if (!found) return;
    // An address counts as its client network, as limits and bans count it: failures spread over
    // the addresses of one IPv6 prefix are one client's, or a by-source.ip rule never fires. The
    // alert and its actions still name the address that tipped it (ECS source.ip is an address,
    // and an address ban covers its network).
    const group = found.field === 'source.ip' ? { field: found.field, value: clientNetwork(found.value, options.ipv6Prefix ?? DEFAULT_IPV6_PREFIX) } : found;
    const gid = `${rule.name}\u0000${group.field}\u0000${group.value}`;
    const now = clock();
    // A spike tracker sees every event, cooling or not, or its baseline would be wrong.
    const reading = st.spike?.observe(gid, now);
    const until = cooling.get(gid);
    if (until !== undefined) {
      if (until > now) return;
      cooling.delete(gid);
    }
    let count = 1;
    if (reading) {
      if (!reading.spike) return;
      count = reading.recent;
    } else if (rule.count > 1) {
      const r = await withStore((s) => s.hit(`alert:${rule.name}:${group.field}:${group.value}`, rule.count, rule.withinMs));
      if (r.count < rule.count) return;
      count = r.count;
    }
    if (closed) return;
    const mark = `alertsent:${rule.name}:${group.field}:${group.value}`;
    const first = await withStore((s) => s.setIfAbsent(mark, new Date(now).toISOString(), rule.cooldownMs));
    if (!first) {
      // Another instance (or a concurrent event here) fired it: stay quiet for what is left of it.
      const left = await withStore((s) => s.ttl(mark)).catch(() => undefined);
      cool(gid, now + (left !== undefined && Number.isFinite(left) ? left : rule.cooldownMs), now);
      return;
    }
    cool(gid, now + rule.cooldownMs, now);
    if (closed) return;
    await fire(rule, found, event, count, reading);
  }

  async function fire(rule: CompiledRule, group: AlertGroup, trigger: SecurityEvent, count: number, reading: SpikeReading | undefined): Promise<void> {
    const plan = planActions(rule, group);
    const grouped = group.field === '*' ? '' : ` (${group.field} ${group.value})`;
    const what = reading
      ? `${count} ${trigger.event.action} within ${formatDuration(rule.withinMs)}, ${rule.spike?.factor ?? 0}x over a baseline of ${reading.expected.toFixed(2)}`
      : `${count} ${trigger.event.action} within ${formatDuration(rule.withinMs)}`;
    events.emit({
      action: 'alert.fired',
      severity: rule.severity,
      outcome: 'success',
      rule: rule.name,
      reason: reading ? 'spike' : 'threshold',
      message: `alert ${rule.name}: ${what}${grouped}`,
      ...(group.field === 'source.ip' ? { sourceIp: group.value } : {}),
      ...(group.field === 'user.id' ? { userId: group.value } : {}),
      ...(group.field === 'bulwark.route' ? { route: group.value } : {}),
      details: {
        alertType: reading ? 'spike' : 'threshold',
        trigger: rule.pattern,
        groupBy: group.field,
        group: group.value,
        count,
        threshold: reading ? rule.spike?.min : rule.count,
        withinMs: rule.withinMs,
        cooldownMs: rule.cooldownMs,
        ...(reading && rule.spike ? { spike: { factor: rule.spike.factor, baselineMs: rule.spike.baselineMs, expected: Number(reading.expected.toFixed(3)) } } : {}),
        notify: plan.some((p) => p.type === 'notify'),
        actions: plan.map(describeAction),
        lastEvent: { action: trigger.event.action, ...(trigger.bulwark.route ? { route: trigger.bulwark.route } : {}), ...(trigger.trace ? { requestId: trigger.trace.id } : {}) },
      },
    });
    await runActions(rule, plan, trigger, deps);
  }

  const onEvent = (event: SecurityEvent) => {
    if (closed) return;
    const matching = byAction.get(event.event.action);
    if (!matching) return;
    for (const st of matching) {
      if (pending.size >= MAX_PENDING) {
        report('overloaded', 'alert evaluation is behind (state store slow?); events were dropped from alert counting');
        return;
      }
      const p: Promise<void> = evaluate(st, event).catch((err: unknown) => {
        report('evaluation_failed', `alert ${st.rule.name}: ${err instanceof Error ? err.message.slice(0, 160) : 'evaluation failed'}`);
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
  };

  function update(rules: readonly AlertRule[]): void {
    const compiled = rules.map(compileRule);
    const names = new Set<string>();
    for (const r of compiled) {
      if (names.has(r.name)) throw new Error(`alert "${r.name}" is defined twice`);
      names.add(r.name);
    }
    const previous = new Map(states.map((s) => [s.signature, s]));
    states = compiled.map((rule) => {
      const signature = JSON.stringify(rules.find((r) => r.name === rule.name));
      const kept = previous.get(signature);
      const spike = rule.spike ? kept?.spike ?? new SpikeTracker(rule.spike, rule.withinMs, clock()) : undefined;
      return { rule, signature, spike };
    });
    byAction = new Map();
    for (const st of states) {
      for (const a of st.rule.actions) {
        const list = byAction.get(a);
        if (list) list.push(st);
        else byAction.set(a, [st]);
      }
    }
    unsubscribe?.();
    unsubscribe = undefined;
    // Subscribed to the actions the rules name only, so `events.wants()` stays false for the rest.
    if (!closed && byAction.size > 0) unsubscribe = events.subscribe(onEvent, [...byAction.keys()]);
  }

  async function idle(): Promise<void> {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  }

  update(options.rules);

  return {
    update,
    idle,
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe?.();
      unsubscribe = undefined;
      await idle();
      await local?.close();
    },
  };
}
