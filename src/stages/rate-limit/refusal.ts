import { deny, type Deny } from '../../core/verdict.js';
import type { RuleBy } from './subject.js';

export interface RefusedRule {
  index: number;
  by: RuleBy;
  /** The limit in force (after an adaptive penalty). */
  limit: number;
  /** The configured limit, for the event. */
  configured: number;
  /** Window length; undefined for concurrency. */
  windowMs: number | undefined;
  unit: 'requests' | 'tokens' | 'concurrent';
}

const POLICY_PREFIX = { requests: 'r', tokens: 't', concurrent: 'c' } as const;

/**
 * `ratelimit.exceeded` is sampled: one event per key per window (per 10 s for concurrency), so a
 * flood cannot flood the log. An unsampled refusal still refuses; it just writes no event.
 */
export class RefusalSampler {
  readonly #reported = new Map<string, number>();

  shouldReport(key: string, forMs: number): boolean {
    const now = Date.now();
    if ((this.#reported.get(key) ?? 0) > now) return false;
    this.#reported.set(key, now + forMs);
    if (this.#reported.size > 10_000) for (const [k, until] of this.#reported) if (until <= now) this.#reported.delete(k);
    return true;
  }
}

/**
 * 429 RATE_LIMITED with Retry-After and the IETF RateLimit-Policy / RateLimit fields
 * (draft-ietf-httpapi-ratelimit-headers): the policy is named after the rule (`r0`, `t1`, `c2`).
 */
export function rateLimited(rule: RefusedRule, resetMs: number, sampled: boolean): Deny {
  const resetS = Math.max(1, Math.ceil(resetMs / 1000));
  const policy = `${POLICY_PREFIX[rule.unit]}${rule.index}`;
  const windowS = rule.windowMs === undefined ? undefined : Math.ceil(rule.windowMs / 1000);
  const detail =
    rule.unit === 'concurrent'
      ? `Limit of ${rule.limit} requests in flight reached; retry in ${resetS} s.`
      : `Rate limit of ${rule.limit} ${rule.unit} per ${windowS} s reached; retry in ${resetS} s.`;
  const policyField = `"${policy}";q=${rule.limit}${windowS === undefined ? ';qu="concurrent-requests"' : `;w=${windowS}`}`;
  return deny('RATE_LIMITED', detail, {
    headers: { 'retry-after': String(resetS), 'ratelimit-policy': policyField, ratelimit: `"${policy}";r=0;t=${resetS}` },
    quiet: !sampled,
    event: {
      action: 'ratelimit.exceeded', severity: 'low', reason: `by_${rule.by}`,
      details: { unit: rule.unit, limit: rule.configured, ...(rule.limit !== rule.configured ? { penalisedLimit: rule.limit } : {}), ...(rule.windowMs !== undefined ? { windowMs: rule.windowMs } : {}), rule: rule.index },
    },
  });
}
