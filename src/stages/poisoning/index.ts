import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import { defineStage } from '../../core/stage.js';
import { CONTINUE, deny, type Deny, type Verdict } from '../../core/verdict.js';
import type { EventBus } from '../../events/bus.js';
import type { Store } from '../../stores/store.js';
import { promptGuard } from '../input-guard/index.js';
import { requestTexts } from '../input-guard/request-texts.js';
import { createCounters, type Counters } from '../rate-limit/counters.js';
import { Quarantine } from './quarantine.js';
import { hammingDistance, NEAR_DUPLICATE_BITS, simhashOfNormalized } from './simhash.js';

type PoisoningConfig = NonNullable<NonNullable<RouteConfig['input']>['poisoning']>;

// Bounded memory per client: past this many recent fingerprints, new ones are not remembered
// (the flood is already evident).
const MAX_FINGERPRINTS = 500;

/** The client an item is attributed to: the verified subject, else the client network (IPv6 rotation inside a prefix is one client). */
const clientOf = (ctx: RequestContext) => (ctx.identity ? `id:${ctx.identity.subject}` : `ip:${ctx.clientNetwork}`);

/**
 * How many recent items from this client are near-copies of this one; remembers this one.
 * Fingerprints carry their time, so each leaves the window on its own.
 */
async function nearCopies(store: Store, key: string, fingerprint: bigint, withinMs: number): Promise<number> {
  const now = Date.now();
  const members = await store.setMembers(key);
  const stale: string[] = [];
  let copies = 0;
  let fresh = 0;
  for (const m of members) {
    const [hex, at] = m.split(':');
    if (Number(at) <= now - withinMs) {
      stale.push(m);
      continue;
    }
    fresh++;
    if (hammingDistance(BigInt(`0x${hex}`), fingerprint) <= NEAR_DUPLICATE_BITS) copies++;
  }
  if (stale.length > 0) await store.setRemove(key, stale);
  if (fresh < MAX_FINGERPRINTS) await store.setAdd(key, [`${fingerprint.toString(16)}:${now}:${Math.random().toString(36).slice(2, 8)}`], withinMs);
  return copies;
}

interface Finding {
  reasons: string[];
  score: number | undefined;
}

async function inspect(ctx: RequestContext, route: RouteConfig, cfg: PoisoningConfig, threshold: number, store: Store, counters: Counters): Promise<Finding | Deny> {
  const body = ctx.body.type === 'json' ? ctx.body.value : {};
  // The texts the input guard already normalized for this request (or normalized here, once).
  const got = await requestTexts(ctx, route.kind, body, route.input?.fields, route.input?.tokenIds);
  if (!got.ok) return got.verdict;
  const whole = got.set.whole();
  const reasons: string[] = [];
  const score = whole.raw.length > 0 ? got.set.wholeScore(promptGuard()).score : undefined;
  if (score !== undefined && score >= threshold) reasons.push('injection');
  const who = clientOf(ctx);
  if (whole.raw.length > 0 && (await nearCopies(store, `poison:sim:${route.name}:${who}`, simhashOfNormalized(whole.lines), cfg.duplicates.within)) >= cfg.duplicates.max) reasons.push('near_duplicate_flood');
  const volume = await counters.hit(`poison:vol:${route.name}:${who}`, cfg.volume.max, cfg.volume.per);
  if (volume !== 'allow' && !volume.allowed) reasons.push('volume');
  return { reasons, score };
}

function logged(events: EventBus, ctx: RequestContext, f: Finding): void {
  events.emit({
    action: 'input.invalid', severity: 'medium', outcome: 'success', stage: 'poisoning', reason: `poisoning:${f.reasons.join(',')}`,
    requestId: ctx.id, route: ctx.route.name, method: ctx.method, path: ctx.path, sourceIp: ctx.clientIp, ...(ctx.identity ? { userId: ctx.identity.subject } : {}),
    details: { action: 'log', ...(f.score !== undefined ? { score: Math.round(f.score * 1000) / 1000 } : {}) },
  });
}

/**
 * Poisoning guard for ingestion routes (feedback, fine-tuning or RAG uploads): an item that
 * scores as an injection, is one of a flood of near-copies from one client, or comes with
 * abnormal volume is quarantined (held in the store, 202 with its id), refused or logged.
 */
export const poisoningStage = defineStage({
  name: 'poisoning',
  build(route, { config, store, events }) {
    const cfg = route.input?.poisoning;
    if (!cfg) return undefined;
    const threshold = cfg.threshold ?? route.input?.promptInjection?.threshold ?? 0.85;
    const counters = createCounters(config, store, events, 'poisoning');
    const quarantine = new Quarantine(store);
    return {
      name: 'poisoning',
      phase: 'inspect-request',
      async onRequest(ctx): Promise<Verdict> {
        if (ctx.body.type !== 'json') return CONTINUE;
        const f = await inspect(ctx, route, cfg, threshold, store, counters);
        if ('action' in f) return f;
        if (f.reasons.length === 0) return CONTINUE;
        const scoreField = f.score !== undefined ? { score: Math.round(f.score * 1000) / 1000 } : {};
        if (cfg.action === 'log') {
          logged(events, ctx, f);
          return CONTINUE;
        }
        if (cfg.action === 'block') {
          return deny('INVALID_INPUT', 'The item was refused by the poisoning guard.', { event: { reason: `poisoning:${f.reasons.join(',')}`, details: scoreField } });
        }
        // A route in monitor mode forwards anyway; holding a copy as well would release it twice.
        if (route.mode === 'monitor') return deny('QUARANTINED', 'The item would have been held for review.', { event: { reason: f.reasons.join(','), details: scoreField } });
        const item = await quarantine.put(
          {
            route: route.name, method: ctx.method, target: ctx.query !== undefined ? `${ctx.path}?${ctx.query}` : ctx.path, body: JSON.stringify(ctx.body.value),
            gatewayHeaders: { ...ctx.upstreamHeaders }, sourceIp: ctx.clientIp, ...(ctx.identity ? { userId: ctx.identity.subject } : {}),
            reasons: f.reasons, ...scoreField, requestId: ctx.id,
          },
          cfg.keepFor,
        );
        return deny('QUARANTINED', 'The item was held for review and not forwarded.', {
          fields: { quarantineId: item.id },
          event: { reason: f.reasons.join(','), details: { quarantineId: item.id, ...scoreField } },
        });
      },
    };
  },
});
