import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import { defineStage, type StageInstance } from '../../core/stage.js';
import { CONTINUE, type Verdict } from '../../core/verdict.js';
import type { Store } from '../../stores/store.js';
import { createCounters, type Counters } from './counters.js';
import { penaltyFactor } from './penalty.js';
import { rateLimited, RefusalSampler } from './refusal.js';
import { subjectOf, type RuleBy } from './subject.js';

interface RequestRule {
  index: number;
  by: RuleBy;
  limit: number;
  windowMs: number;
}

/** The route's `requests` rules that `pick` selects. */
function requestRules(route: RouteConfig, pick: (by: RuleBy) => boolean): RequestRule[] {
  const out: RequestRule[] = [];
  (route.rateLimit ?? []).forEach((r, index) => {
    if (r.requests !== undefined && r.per !== undefined && pick(r.by)) out.push({ index, by: r.by, limit: r.requests, windowMs: r.per });
  });
  return out;
}

function limiter(name: string, phase: StageInstance['phase'], route: RouteConfig, rules: RequestRule[], counters: Counters, store: Store): StageInstance {
  const sampler = new RefusalSampler();
  return {
    name,
    phase,
    async onRequest(ctx: RequestContext): Promise<Verdict> {
      const factor = await penaltyFactor(route, store, ctx);
      for (const rule of rules) {
        const subject = subjectOf(rule.by, ctx);
        if (subject === undefined) continue;
        const key = `rl:${route.name}:${rule.index}:${subject}`;
        const limit = Math.max(1, Math.floor(rule.limit * factor));
        const r = await counters.hit(key, limit, rule.windowMs);
        if (r === 'allow' || r.allowed) continue;
        const sampled = sampler.shouldReport(key, rule.windowMs);
        return rateLimited({ index: rule.index, by: rule.by, limit, configured: rule.limit, windowMs: rule.windowMs, unit: 'requests' }, r.resetMs, sampled);
      }
      return CONTINUE;
    },
  };
}

/**
 * Per-address limits run in `identify`, before authentication, so every request counts, failed
 * authentications included (brute-force throttling).
 */
export const rateLimitIpStage = defineStage({
  name: 'rate-limit-ip',
  build(route, { config, store, events }) {
    const rules = requestRules(route, (by) => by === 'ip');
    return rules.length ? limiter('rate-limit-ip', 'identify', route, rules, createCounters(config, store, events, 'rate-limit-ip'), store) : undefined;
  },
});

/** Per-identity, key, route and header limits run in `limit`, once the subject is known. */
export const rateLimitStage = defineStage({
  name: 'rate-limit',
  build(route, { config, store, events }) {
    const rules = requestRules(route, (by) => by !== 'ip');
    return rules.length ? limiter('rate-limit', 'limit', route, rules, createCounters(config, store, events, 'rate-limit'), store) : undefined;
  },
});
