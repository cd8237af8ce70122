import type { BulwarkConfig } from '../../config/schema.js';
import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import { defineStage, type StageInstance } from '../../core/stage.js';
import { CONTINUE, deny, type Verdict } from '../../core/verdict.js';
import type { EventBus } from '../../events/bus.js';
import type { SecurityEvent } from '../../events/event.js';
import { clientNetwork } from '../../server/client-network.js';
import type { Store } from '../../stores/store.js';
import { storeFailurePolicy } from '../../stores/degraded.js';
import { acquireBanCache, releaseBanCache, type BanCache } from './ban-cache.js';
import { Bans, type BanTarget } from './bans.js';

const banned = (until: string): Verdict =>
  deny('BANNED', 'Too many security signals from this client; try again later.', {
    headers: { 'retry-after': String(Math.max(1, Math.ceil((Date.parse(until) - Date.now()) / 1000))) },
    // ban.applied was emitted when the ban started; a refusal per request would flood the log.
    quiet: true,
  });

async function check(bans: Bans, t: BanTarget, onFailure: (err: unknown) => 'local' | 'allow', cache: BanCache | undefined): Promise<Verdict> {
  let b;
  try {
    b = await bans.get(t);
  } catch (err) {
    // deny rethrows; allow skips the check; local enforces the bans this instance knows, so a
    // failed lookup never reads as "not banned" for a client banned before the outage.
    if (onFailure(err) === 'allow') return CONTINUE;
    b = cache?.known(t);
  }
  if (!b) return CONTINUE;
  bans.watchExpiry(b);
  return banned(b.until);
}

// An address found unbanned is not looked up again for this long: the check runs on every
// request of every route, and a store read per request (a network round trip with Redis) would
// cost more than the rest of the gateway. A ban made by another process (CLI, another instance)
// therefore applies within this time; one made in this process applies at once.
const CLEAR_CACHE_MS = 1000;
const CLEAR_CACHE_MAX = 10_000;

/**
 * With Redis and `onError: local`, the ban stages keep the store's bans in this process (one
 * cache per store, refreshed every 2 s) for when Redis cannot be asked. Other policies and
 * stores never use it: deny refuses, allow skips, and a local store failing is not an outage.
 */
function banCacheFor(config: BulwarkConfig, store: Store, bans: Bans, events: EventBus): { cache: BanCache | undefined; release: () => void } {
  if (store.kind !== 'redis' || config.state.redis.onError !== 'local') return { cache: undefined, release: () => undefined };
  let scanned = false;
  const cache = acquireBanCache(store, async () => {
    // The first read also lists the ban keys, for bans made before the index existed.
    const all = await bans.loadAll(!scanned);
    scanned = true;
    return all;
  }, events);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    releaseBanCache(store);
  };
  return { cache, release };
}

export interface IpBanCheck {
  /** The ban answer for a client network, or CONTINUE. Synchronous on a cache hit. */
  check(network: string): Verdict | Promise<Verdict>;
  close(): void;
}

/**
 * The ban check by client network, shared by the ban stage (every route) and the gateway's
 * answer to unregistered paths, so a banned client gets the ban answer wherever it knocks.
 */
export function createIpBanCheck(config: BulwarkConfig, store: Store, events: EventBus): IpBanCheck {
  const prefix = config.server.ipv6Prefix;
  const bans = new Bans(store, events, prefix);
  const onFailure = storeFailurePolicy(config, store, events, 'ban');
  const { cache, release } = banCacheFor(config, store, bans, events);
  const clear = new Map<string, number>();
  // A ban applied in this process (adaptive response, admin) takes effect at once here.
  const unsubscribe = events.subscribe((e) => {
    if (e.source?.ip) clear.delete(clientNetwork(e.source.ip, prefix));
  }, ['ban.applied']);
  return {
    close: () => {
      unsubscribe();
      release();
    },
    check(network) {
      const now = Date.now();
      const until = clear.get(network);
      if (until !== undefined && until > now) return CONTINUE;
      return check(bans, { kind: 'ip', value: network }, onFailure, cache).then((v) => {
        if (v.action === 'continue') {
          if (clear.size >= CLEAR_CACHE_MAX) clear.clear();
          clear.set(network, now + CLEAR_CACHE_MS);
        } else clear.delete(network);
        return v;
      });
    },
  };
}

/** Banned client networks are refused first thing, before any other work (every route). */
export const banIpStage = defineStage({
  name: 'ban',
  build(_route, { config, store, events }) {
    const bans = createIpBanCheck(config, store, events);
    return {
      name: 'ban',
      phase: 'identify',
      close: bans.close,
      // Synchronous on a cache hit: the pipeline then runs this phase without a promise.
      onRequest: (ctx: RequestContext): Verdict | Promise<Verdict> => bans.check(ctx.clientNetwork),
    };
  },
});

/** Banned identities are refused once authentication has named them. */
export const banIdentityStage = defineStage({
  name: 'ban-identity',
  build(route, { config, store, events }) {
    if (!route.auth || route.auth.public) return undefined;
    const bans = new Bans(store, events, config.server.ipv6Prefix);
    const onFailure = storeFailurePolicy(config, store, events, 'ban');
    const { cache, release } = banCacheFor(config, store, bans, events);
    return {
      name: 'ban-identity',
      phase: 'authorize',
      close: release,
      onRequest: (ctx: RequestContext) => (ctx.identity ? check(bans, { kind: 'identity', value: ctx.identity.subject }, onFailure, cache) : CONTINUE),
    };
  },
});

// Offences within the cool-down before a ban, and the escalation of repeated bans (x1, x15, x60:
// with ban: 1m that is 1 m, 15 m, 1 h).
const OFFENCES_BEFORE_BAN = 5;
const ESCALATION = [1, 15, 60];

/**
 * Adaptive response (`route.adaptive`): security events from a client on this route (auth
 * failures, injections, ...) count as offences; a client with offences gets its request limits
 * multiplied by `penalty` until the cool-down passes; repeated offences ban the address, longer
 * each time. Built per route; the event subscription ends with the route's runtime.
 */
export const adaptiveStage = defineStage({
  name: 'adaptive',
  build(route: RouteConfig, { config, store, events }): StageInstance | undefined {
    const cfg = route.adaptive;
    if (!cfg) return undefined;
    const baseBanMs = cfg.ban ?? 15 * 60_000;
    const prefix = config.server.ipv6Prefix;
    const bans = new Bans(store, events, prefix);
    const signals = new Set(cfg.onSignals);
    const onEvent = (e: SecurityEvent) => {
      // Signals of this route, and route-less ones (a client probing unregistered endpoints).
      const from = e.bulwark.route;
      if ((from !== undefined && from !== route.name) || !signals.has(e.event.action) || !e.source?.ip) return;
      const ip = e.source.ip;
      // Offences count per client network: addresses rotated inside one IPv6 prefix are one
      // offender. The ban names the address that earned it and covers its network.
      const net = clientNetwork(ip, prefix);
      void (async () => {
        const offences = await store.increment(`offence:ip:${route.name}:${net}`, 1, baseBanMs);
        if (offences < OFFENCES_BEFORE_BAN) return;
        await store.delete(`offence:ip:${route.name}:${net}`);
        const level = await store.increment(`banlevel:ip:${net}`, 1, 24 * 3_600_000);
        const factor = ESCALATION[Math.min(level, ESCALATION.length) - 1] as number;
        await bans.add({ kind: 'ip', value: ip }, baseBanMs * factor, `adaptive:${e.event.action}`);
      })().catch(() => undefined);
    };
    const unsubscribe = (events as EventBus).subscribe(onEvent);
    return {
      name: 'adaptive',
      phase: 'identify',
      // Nothing to decide per request here (no onRequest): offences are counted from events, bans
      // are enforced by the ban stage, and the penalty is applied by the rate limiter.
      close: unsubscribe,
    };
  },
});
