import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext, RequestEnd } from '../../core/context.js';
import { defineStage, type ResponseFilter } from '../../core/stage.js';
import { CONTINUE, type Verdict } from '../../core/verdict.js';
import { createCounters, type Counters } from '../rate-limit/counters.js';
import { penaltyFactor } from '../rate-limit/penalty.js';
import { rateLimited, RefusalSampler } from '../rate-limit/refusal.js';
import { subjectOf, type RuleBy } from '../rate-limit/subject.js';
import type { Store } from '../../stores/store.js';
import { budgetedCounter, estimatePromptTokens, loadTokenCounter, reservedOutputTokens } from './estimate.js';
import { createUsageObserver, type UsageObserver } from './usage.js';
import { requestStreamUsage, usageChunkRemover } from './usage-chunk.js';

const isEventStream = (contentType: string | undefined): boolean => (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase() === 'text/event-stream';

interface TokenRule {
  index: number;
  by: RuleBy;
  limit: number;
  windowMs: number;
}

function tokenRules(route: RouteConfig): TokenRule[] {
  const out: TokenRule[] = [];
  (route.rateLimit ?? []).forEach((r, index) => {
    if (r.tokens !== undefined && r.per !== undefined) out.push({ index, by: r.by, limit: r.tokens, windowMs: r.per });
  });
  return out;
}

/** What one request holds against its budgets until it ends. */
interface Held {
  prompt: number;
  reserved: number;
  entries: Array<{ key: string; entry: string; windowMs: number }>;
  /** The tokenizer used for the estimate, reused to count generated text. */
  count: (text: string) => number;
  observer?: UsageObserver;
  /** The gateway asked the upstream for stream usage; the client did not: hide the usage chunk. */
  hideUsage: boolean;
  /** The upstream's status: whether a model ran, whatever the client was then sent. */
  upstreamStatus?: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * What the request really cost: the upstream's own final `usage` when it reported one. Without it, the
 * whole reservation (prompt estimate + cap x choices), or the prompt plus the text seen if that is
 * more (a route without a cap): the visible text alone would miss reasoning the model did not
 * show, and what it generated before a client left. Nothing when the request never reached the
 * upstream, or the upstream refused it without reporting usage (no model ran). The upstream's
 * status decides, not the client's: an answer the gateway blocked was still generated.
 */
export function actualCost(held: Held, end: RequestEnd): number {
  if (!end.forwarded) return 0;
  const seen = held.observer?.onEnd();
  if (seen?.usage && seen.final) return seen.usage.input + seen.usage.output;
  const status = held.upstreamStatus ?? end.status;
  // A 504 without an upstream status: the request was sent and the model may be generating
  // still (a long answer past upstream.timeout). Refunding it would make such requests free.
  const mayHaveRun = status === 499 || (held.upstreamStatus === undefined && end.status === 504);
  if (!seen?.usage && status >= 400 && !mayHaveRun) return 0;
  // A running count (a stream cut before its closing report) is a floor, not the cost.
  const running = seen?.usage ? seen.usage.input + seen.usage.output : 0;
  return Math.max(held.reserved, held.prompt + (seen?.estimatedOutput ?? 0), running);
}

function settleAll(counters: Counters, held: Held, end: RequestEnd): void {
  const cost = actualCost(held, end);
  for (const e of held.entries) void counters.settle(e.key, e.entry, cost, e.windowMs);
}

/**
 * LLM token budgets (`tokens` rules). Before forwarding, the prompt is estimated with the o200k
 * tokenizer and the answer's cap times its choices reserved; the reservation must fit every
 * budget. When the request ends, each entry is settled to what was really spent (see actualCost),
 * so the budget reflects real usage, streamed answers included.
 */
export const tokenBudgetStage = defineStage({
  name: 'rate-limit-tokens',
  build(route, { config, store, events }) {
    const rules = tokenRules(route);
    if (rules.length === 0) return undefined;
    const counters = createCounters(config, store, events, 'rate-limit-tokens');
    const sampler = new RefusalSampler();
    const counter = loadTokenCounter();
    // A load failure surfaces on the first request (fail closed), not as an unhandled rejection.
    counter.catch(() => undefined);
    return {
      name: 'rate-limit-tokens',
      // After the body is read and screened: the estimate needs the prompt.
      phase: 'inspect-request',
      async onRequest(ctx): Promise<Verdict> {
        return reserve(ctx, route, rules, counters, store, sampler, await counter);
      },
      onResponse(ctx, head): ResponseFilter | undefined {
        const held = ctx.locals.get('rate-limit-tokens') as Held | undefined;
        if (!held) return undefined;
        held.upstreamStatus = head.status;
        const ct = head.headers['content-type'];
        const contentType = Array.isArray(ct) ? ct[0] : ct;
        const observer = createUsageObserver({ contentType, count: held.count });
        held.observer = observer;
        if (held.hideUsage && isEventStream(contentType)) {
          // The observer reads the usage chunk before the remover takes it out of the stream.
          const remover = usageChunkRemover();
          return {
            onChunk(chunk) {
              observer.onChunk(chunk);
              return remover.onChunk(chunk);
            },
            onEnd: () => remover.onEnd(),
          };
        }
        return {
          observeOnly: true,
          onChunk(chunk) {
            observer.onChunk(chunk);
            return chunk;
          },
          onEnd: () => EMPTY,
        };
      },
    };
  },
});

async function reserve(ctx: RequestContext, route: RouteConfig, rules: TokenRule[], c: Counters, store: Store, sampler: RefusalSampler, count: (text: string) => number): Promise<Verdict> {
  const body = ctx.body.type === 'json' ? ctx.body.value : undefined;
  const prompt = body ? estimatePromptTokens(route.kind, body, budgetedCounter(count)) : 0;
  const reserved = prompt + (body ? reservedOutputTokens(route.kind, body, route.input?.maxTokens) : 0);
  // Usage settles the budget: a stream must carry it even when its client did not ask.
  const hideUsage = body !== undefined && requestStreamUsage(route.kind, body);
  const held: Held = { prompt, reserved, entries: [], count, hideUsage };
  ctx.locals.set('rate-limit-tokens', held);
  ctx.onEnd((end) => settleAll(c, held, end));
  const factor = await penaltyFactor(route, store, ctx);
  for (const rule of rules) {
    const subject = subjectOf(rule.by, ctx);
    if (subject === undefined) continue;
    const key = `tk:${route.name}:${rule.index}:${subject}`;
    const limit = Math.max(1, Math.floor(rule.limit * factor));
    const r = await c.spend(key, reserved, limit, rule.windowMs);
    if (r === 'allow') continue;
    if (r.allowed) {
      held.entries.push({ key, entry: r.entry, windowMs: rule.windowMs });
      continue;
    }
    return rateLimited({ index: rule.index, by: rule.by, limit, configured: rule.limit, windowMs: rule.windowMs, unit: 'tokens' }, r.resetMs, sampler.shouldReport(key, rule.windowMs));
  }
  return CONTINUE;
}
