import { createHash } from 'node:crypto';
import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import { defineStage, type StageInstance } from '../../core/stage.js';
import { CONTINUE, deny, type Verdict } from '../../core/verdict.js';
import type { BulwarkConfig } from '../../config/schema.js';
import type { EventBus } from '../../events/bus.js';
import { createMemoryStore } from '../../stores/memory-store.js';
import { storeFailurePolicy } from '../../stores/degraded.js';
import type { HitResult, Store } from '../../stores/store.js';

type Rule = NonNullable<RouteConfig['rateLimit']>[number];
interface RequestRule {
  index: number;
  by: Rule['by'];
  limit: number;
  windowMs: number;
}

/** Rules this stage enforces: request counts. Token budgets and concurrency are separate features. */
function requestRules(route: RouteConfig, pick: (r: RequestRule) => boolean): RequestRule[] {
  return (route.rateLimit ?? [])
    .map((r, index) => ({ index, by: r.by, limit: r.requests as number, windowMs: r.per as number, isRequests: r.requests !== undefined }))
    .filter((r) => r.isRequests)
    .map(({ isRequests: _i, ...r }) => r)
    .filter(pick);
}

/** The value a rule counts by; undefined when the rule does not apply to this request. */
function subjectOf(rule: RequestRule, ctx: RequestContext): string | undefined {
  switch (rule.by) {
    case 'ip':
      return ctx.clientIp;
    case 'identity':
      // Never the credential string: re-minted tokens for one subject share one budget. An
      // anonymous caller (public route) is counted by address.
      return ctx.identity ? `id:${ctx.identity.subject}` : `ip:${ctx.clientIp}`;
    case 'apiKey':
      return ctx.identity?.method === 'apiKey' ? ctx.identity.subject : undefined;
    case 'route':
      return 'route';
    default: {
      const name = rule.by.slice('header:'.length);
      const v = ctx.headers[name];
      const value = Array.isArray(v) ? v[0] : v;
      // Hashed: header values are client input of any length; a missing header is one shared bucket.
      return value === undefined ? '(none)' : createHash('sha256').update(value).digest('base64url');
    }
  }
}

/**
 * The counting backend with `state.redis.onError` applied: when the shared store fails, `local`
 * counts in this process (the budget is per instance until Redis returns), `allow` lets the
 * request through, `deny` (and every non-Redis store) fails the stage, which the route's onError
 * turns into a refusal. Each degraded decision is said in a `stage.error` event, never silently.
 */
function countingFor(config: BulwarkConfig, store: Store, events: EventBus): (key: string, limit: number, windowMs: number) => Promise<HitResult | 'allow'> {
  const onFailure = storeFailurePolicy(config, store, events, 'rate-limit');
  let local: Store | undefined;
  return async (key, limit, windowMs) => {
    try {
      return await store.hit(key, limit, windowMs);
    } catch (err) {
      if (onFailure(err) === 'allow') return 'allow';
      local ??= createMemoryStore();
      return local.hit(key, limit, windowMs);
    }
  };
}

function limiter(name: string, phase: StageInstance['phase'], route: RouteConfig, rules: RequestRule[], count: ReturnType<typeof countingFor>, penaltyStore?: Store): StageInstance {
  // ratelimit.exceeded is sampled: one event per key per window, so a flood cannot flood the log.
  const reported = new Map<string, number>();
  return {
    name,
    phase,
    async onRequest(ctx): Promise<Verdict> {
      // adaptive: a client with recent offences on this route gets `penalty` x its limits.
      const penalised = route.adaptive !== undefined && Number((await penaltyStore?.get(`offence:ip:${route.name}:${ctx.clientIp}`).catch(() => undefined)) ?? 0) > 0;
      for (const rule of rules) {
        const subject = subjectOf(rule, ctx);
        if (subject === undefined) continue;
        const key = `rl:${route.name}:${rule.index}:${subject}`;
        const limit = penalised ? Math.max(1, Math.floor(rule.limit * (route.adaptive?.penalty ?? 1))) : rule.limit;
        const r = await count(key, limit, rule.windowMs);
        if (r === 'allow' || r.allowed) continue;
        const now = Date.now();
        const sampled = (reported.get(key) ?? 0) <= now;
        if (sampled) {
          reported.set(key, now + rule.windowMs);
          if (reported.size > 10_000) for (const [k, until] of reported) if (until <= now) reported.delete(k);
        }
        const resetS = Math.max(1, Math.ceil(r.resetMs / 1000));
        const policy = `r${rule.index}`;
        return deny('RATE_LIMITED', `Rate limit of ${limit} requests per ${rule.windowMs / 1000} s reached; retry in ${resetS} s.`, {
          headers: {
            'retry-after': String(resetS),
            'ratelimit-policy': `"${policy}";q=${limit};w=${Math.ceil(rule.windowMs / 1000)}`,
            ratelimit: `"${policy}";r=0;t=${resetS}`,
          },
          // An unsampled refusal still refuses; it just writes no event.
          quiet: !sampled,
          event: { action: 'ratelimit.exceeded', severity: 'low', reason: `by_${rule.by}`, details: { limit: rule.limit, windowMs: rule.windowMs, rule: rule.index } },
        });
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
    const rules = requestRules(route, (r) => r.by === 'ip');
    return rules.length ? limiter('rate-limit-ip', 'identify', route, rules, countingFor(config, store, events), store) : undefined;
  },
});

/** Per-identity, key, route and header limits run in `limit`, once the subject is known. */
export const rateLimitStage = defineStage({
  name: 'rate-limit',
  build(route, { config, store, events }) {
    const rules = requestRules(route, (r) => r.by !== 'ip');
    return rules.length ? limiter('rate-limit', 'limit', route, rules, countingFor(config, store, events), store) : undefined;
  },
});
