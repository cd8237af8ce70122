import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import { defineStage, type StageInstance } from '../../core/stage.js';
import { CONTINUE, type Verdict } from '../../core/verdict.js';
import type { Store } from '../../stores/store.js';
import { createCounters, type Counters } from './counters.js';
import { penaltyFactor } from './penalty.js';
import { rateLimited, RefusalSampler } from './refusal.js';
import { subjectOf, type RuleBy } from './subject.js';

interface ConcurrentRule {
  index: number;
  by: RuleBy;
  limit: number;
}

/**
 * A slot is a lease in the store's weighted window: an entry of 1 that leaves on its own after
 * LEASE_MS, so slots held by a gateway that crashed come back within a minute. A request that
 * runs longer renews its lease every RENEW_MS (a new entry, then the old one released).
 */
export const LEASE_MS = 60_000;
const RENEW_MS = 20_000;
// Renewal must never be refused: the slot is already held.
const UNLIMITED = Number.MAX_SAFE_INTEGER;

function concurrentRules(route: RouteConfig, pick: (by: RuleBy) => boolean): ConcurrentRule[] {
  const out: ConcurrentRule[] = [];
  (route.rateLimit ?? []).forEach((r, index) => {
    if (r.concurrent !== undefined && pick(r.by)) out.push({ index, by: r.by, limit: r.concurrent });
  });
  return out;
}

interface Lease {
  key: string;
  entry: string;
}

/**
 * Gives every lease back when the request ends; returns what starts the renewal timer, called
 * once a slot is actually held (a request that holds none needs no timer).
 */
function holdUntilEnd(ctx: RequestContext, counters: Counters, leases: Lease[]): () => void {
  let renew: NodeJS.Timeout | undefined;
  ctx.onEnd(() => {
    if (renew) clearInterval(renew);
    for (const lease of leases) void counters.settle(lease.key, lease.entry, 0, LEASE_MS);
  });
  return () => {
    if (renew) return;
    renew = setInterval(() => {
      for (const lease of leases) {
        const old = lease.entry;
        void counters.spend(lease.key, 1, UNLIMITED, LEASE_MS).then((r) => {
          if (r === 'allow' || !r.allowed) return;
          lease.entry = r.entry;
          void counters.settle(lease.key, old, 0, LEASE_MS);
        });
      }
    }, RENEW_MS);
    renew.unref();
  };
}

function limiter(name: string, phase: StageInstance['phase'], route: RouteConfig, rules: ConcurrentRule[], counters: Counters, store: Store): StageInstance {
  const sampler = new RefusalSampler();
  return {
    name,
    phase,
    async onRequest(ctx): Promise<Verdict> {
      const factor = await penaltyFactor(route, store, ctx);
      const leases: Lease[] = [];
      // Registered before the first slot is taken, so a refusal by a later rule (or any later
      // check) still gives back the slots already held.
      const renewing = holdUntilEnd(ctx, counters, leases);
      for (const rule of rules) {
        const subject = subjectOf(rule.by, ctx);
        if (subject === undefined) continue;
        const key = `cc:${route.name}:${rule.index}:${subject}`;
        const limit = Math.max(1, Math.floor(rule.limit * factor));
        const r = await counters.spend(key, 1, limit, LEASE_MS);
        if (r === 'allow') continue;
        if (r.allowed) {
          leases.push({ key, entry: r.entry });
          renewing();
          continue;
        }
        const sampled = sampler.shouldReport(key, 10_000);
        // The wait is a guess: slots free when requests finish, not on a clock.
        return rateLimited({ index: rule.index, by: rule.by, limit, configured: rule.limit, windowMs: undefined, unit: 'concurrent' }, 1000, sampled);
      }
      return CONTINUE;
    },
  };
}

/** Concurrency per address runs in `identify`, like the per-address request limits. */
export const concurrentIpStage = defineStage({
  name: 'rate-limit-concurrent-ip',
  build(route, { config, store, events }) {
    const rules = concurrentRules(route, (by) => by === 'ip');
    return rules.length ? limiter('rate-limit-concurrent-ip', 'identify', route, rules, createCounters(config, store, events, 'rate-limit-concurrent-ip'), store) : undefined;
  },
});

/** Concurrency per identity, key, route or header runs in `limit`. */
export const concurrentStage = defineStage({
  name: 'rate-limit-concurrent',
  build(route, { config, store, events }) {
    const rules = concurrentRules(route, (by) => by !== 'ip');
    return rules.length ? limiter('rate-limit-concurrent', 'limit', route, rules, createCounters(config, store, events, 'rate-limit-concurrent'), store) : undefined;
  },
});
