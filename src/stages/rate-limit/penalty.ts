import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import type { Store } from '../../stores/store.js';

/**
 * The factor a client's request, token and concurrency limits are multiplied by on this route:
 * the route's `adaptive` penalty while the client has recent offences on it (recorded by the
 * `adaptive` stage), times the strictest active alert throttle (`then: [{ throttle: 0.1 }]`) of
 * the client's address or identity. 1 when neither applies, or when the store cannot say: the
 * limits themselves still apply, with their own failure policy.
 */
export async function penaltyFactor(route: RouteConfig, store: Store, ctx: RequestContext): Promise<number> {
  // Offences and address throttles are recorded per client network (see clientNetwork).
  const throttle = throttleFactor(store, ctx.clientNetwork, ctx.identity?.subject);
  if (route.adaptive === undefined) return throttle;
  const offences = await store.get(`offence:ip:${route.name}:${ctx.clientNetwork}`).catch(() => undefined);
  return (Number(offences ?? 0) > 0 ? route.adaptive.penalty : 1) * throttle;
}

// ---------------------------------------------------------------------------------------------
// Alert throttles.
//
// An alert action `{ throttle: f }` lowers a client's limits to f x for a while. It is written to
// the store as `throttle:<ip|identity>:<value>` (an `ip` value is the client network) (JSON `{ factor, until }`, TTL = its duration) and
// listed in the index set `throttles` (members `[kind, value, untilMs, factor]` as JSON), so every
// instance sharing the store honours it.
//
// penaltyFactor runs on every rate-limited request, so the throttle check never reads the store
// per request. Each process keeps a view of the active throttles per store object:
// - a throttle applied in this process (setThrottle) is in the view at once;
// - with a shared store (sqlite, redis), the view is refreshed from the index set at most every
//   REFRESH_MS, off the request path (the request that notices the view is stale starts the read
//   and does not wait for it). A throttle applied by another instance therefore takes effect here
//   within about REFRESH_MS (the price of one set read per interval per process instead of one
//   read per request);
// - with the memory store nothing else can write it, so it is never read: the check is two Map
//   lookups, and a single `size === 0` test while no throttle is active.
// ---------------------------------------------------------------------------------------------

export type ThrottleTarget = { kind: 'ip' | 'identity'; value: string };

interface ThrottleEntry {
  factor: number;
  until: number;
  /** When this process learnt of it (a refresh started earlier must not drop it). */
  notedAt: number;
}

interface ThrottleView {
  /** `ip:<addr>` / `identity:<subject>` → active throttles (the strictest applies). */
  entries: Map<string, ThrottleEntry[]>;
  checkedAt: number;
  refreshing: boolean;
}

const INDEX_KEY = 'throttles';
const REFRESH_MS = 2000;
const MAX_INDEX = 10_000;
const views = new WeakMap<Store, ThrottleView>();

const targetKey = (kind: string, value: string) => `${kind}:${value}`;

function viewOf(store: Store): ThrottleView {
  let view = views.get(store);
  if (!view) views.set(store, (view = { entries: new Map(), checkedAt: 0, refreshing: false }));
  return view;
}

function addEntry(entries: Map<string, ThrottleEntry[]>, key: string, entry: ThrottleEntry): void {
  const list = entries.get(key);
  if (list) list.push(entry);
  else entries.set(key, [entry]);
}

/** Lowest active factor for `key`, dropping expired entries on the way; 1 when none. */
function activeFactor(entries: Map<string, ThrottleEntry[]>, key: string, now: number): number {
  const list = entries.get(key);
  if (!list) return 1;
  let factor = 1;
  let live = 0;
  for (const e of list) {
    if (e.until <= now) continue;
    list[live++] = e;
    if (e.factor < factor) factor = e.factor;
  }
  list.length = live;
  if (live === 0) entries.delete(key);
  return factor;
}

/**
 * Throttles `target` to `factor` x its limits for `durationMs`, on every instance sharing `store`
 * (this one at once, the others within about 2 s).
 */
export async function setThrottle(store: Store, target: ThrottleTarget, factor: number, durationMs: number): Promise<{ until: string }> {
  if (!(factor > 0 && factor <= 1)) throw new RangeError('throttle factor must be in (0, 1]');
  const now = Date.now();
  const until = now + durationMs;
  const untilIso = new Date(until).toISOString();
  // Noted locally first: this process applies it even if the store write fails.
  addEntry(viewOf(store).entries, targetKey(target.kind, target.value), { factor, until, notedAt: now });
  await store.set(`throttle:${target.kind}:${target.value}`, JSON.stringify({ factor, until: untilIso }), durationMs);
  await store.setAdd(INDEX_KEY, [JSON.stringify([target.kind, target.value, until, factor])]);
  return { until: untilIso };
}

/** The strictest active throttle factor for a client (1 when none). Synchronous and store-free. */
export function throttleFactor(store: Store, ip: string, subject: string | undefined, now: number = Date.now()): number {
  const view = viewOf(store);
  if (store.kind !== 'memory' && !view.refreshing && now - view.checkedAt >= REFRESH_MS) void refresh(store, view, now);
  if (view.entries.size === 0) return 1;
  const byIp = activeFactor(view.entries, targetKey('ip', ip), now);
  return subject === undefined ? byIp : Math.min(byIp, activeFactor(view.entries, targetKey('identity', subject), now));
}

async function refresh(store: Store, view: ThrottleView, started: number): Promise<void> {
  view.refreshing = true;
  view.checkedAt = started;
  try {
    const members = await store.setMembers(INDEX_KEY);
    const now = Date.now();
    const next = new Map<string, ThrottleEntry[]>();
    const stale: string[] = [];
    for (const m of members.slice(0, MAX_INDEX)) {
      const parsed = parseMember(m);
      if (!parsed || parsed.until <= now) stale.push(m);
      else addEntry(next, targetKey(parsed.kind, parsed.value), { factor: parsed.factor, until: parsed.until, notedAt: started });
    }
    // What this process applied while the read was under way is kept.
    for (const [key, list] of view.entries) for (const e of list) if (e.notedAt > started && e.until > now) addEntry(next, key, e);
    view.entries = next;
    if (stale.length > 0) await store.setRemove(INDEX_KEY, stale);
  } catch {
    // The store is away: keep the view we have; the next interval tries again.
  } finally {
    view.checkedAt = Date.now();
    view.refreshing = false;
  }
}

function parseMember(m: string): { kind: 'ip' | 'identity'; value: string; until: number; factor: number } | undefined {
  try {
    const v: unknown = JSON.parse(m);
    if (!Array.isArray(v) || v.length !== 4) return undefined;
    const [kind, value, until, factor] = v as unknown[];
    if ((kind !== 'ip' && kind !== 'identity') || typeof value !== 'string' || typeof until !== 'number' || typeof factor !== 'number') return undefined;
    if (!(factor > 0 && factor <= 1)) return undefined;
    return { kind, value, until, factor };
  } catch {
    return undefined;
  }
}
