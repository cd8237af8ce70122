import type { RouteConfig } from '../config/schema-route.js';
import type { EventBus } from '../events/bus.js';
import { isStoreUnavailable } from '../stores/store-unavailable.js';
import type { RequestContext } from './context.js';
import type { DecisionCounters } from './counters.js';
import { defaultStatus } from './errors.js';
import { STAGE_REQUEST_PHASES, type StageRequestPhase } from './phases.js';
import { emitRefusal } from './refusal-event.js';
import type { ResponseHead, ResponseFilter, StageInstance } from './stage.js';
import { deny, type Deny, type Verdict } from './verdict.js';

/**
 * One route's stages, grouped by phase at load. The pipeline (not the stage) owns enforce vs
 * monitor, the failure policy and the counters.
 */
export interface RoutePipeline {
  readonly route: RouteConfig;
  readonly stages: readonly StageInstance[];
  /**
   * Runs one phase's stages in order; the first enforced denial wins. Synchronous while every
   * stage answers synchronously (no promise per stage on the hot path), a promise otherwise.
   */
  runPhase(phase: StageRequestPhase, ctx: RequestContext): Deny | undefined | Promise<Deny | undefined>;
  hasPhase(phase: StageRequestPhase): boolean;
  /** Response filters of this request, in stage order (possibly empty). */
  responseFilters(ctx: RequestContext, head: ResponseHead): ResponseFilter[];
}

// The stores say an outage by type (StoreUnavailableError); this is what a raw Redis client says
// while the server is unreachable (ioredis), for stages and stores outside this package. An
// operator should read "the store is down" in the event, not a bare "Error".
const STORE_DOWN = /Connection is closed|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|enableOfflineQueue|Reached the max retries|MaxRetriesPerRequest/;

/** A short, secret-free reason for a stage failure: the error's name or code, never its message. */
function errorReason(err: unknown): string {
  if (!(err instanceof Error)) return 'non-error thrown';
  if (isStoreUnavailable(err) || STORE_DOWN.test(err.message) || STORE_DOWN.test(err.name)) return 'store_unavailable';
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? `${err.name}:${code}` : err.name;
}

export function createPipeline(route: RouteConfig, stages: readonly StageInstance[], deps: { events: EventBus; counters: DecisionCounters }): RoutePipeline {
  const byPhase = new Map<StageRequestPhase, StageInstance[]>();
  for (const p of STAGE_REQUEST_PHASES) byPhase.set(p, stages.filter((s) => s.phase === p && s.onRequest));
  const responders = stages.filter((s) => s.onResponse);
  const { events, counters } = deps;
  const monitor = route.mode === 'monitor';

  function failed(stage: StageInstance, ctx: RequestContext, err: unknown): Deny | undefined {
    counters.inc(stage.name, route.name, 'errored');
    // Never for a stage that establishes identity or permission: `allow` there would forward an
    // unauthenticated caller (or a revoked key's token) whenever the key store fails.
    const failOpen = (route.onError === 'allow' && stage.failClosed !== true) || monitor;
    events.emit({
      action: 'stage.error', severity: 'high', outcome: failOpen ? 'success' : 'failure', stage: stage.name,
      reason: errorReason(err), route: route.name, requestId: ctx.id,
      method: ctx.method, path: ctx.path, sourceIp: ctx.clientIp,
    });
    // Fail closed unless the route says otherwise: a crashing detector never lets a request through silently.
    return failOpen ? undefined : deny('INTERNAL_ERROR', 'A security check failed; the request was refused.');
  }

  function decided(stage: StageInstance, ctx: RequestContext, verdict: Verdict): Deny | undefined {
    if (verdict.action === 'continue') {
      counters.inc(stage.name, route.name, 'allowed');
      return undefined;
    }
    if (monitor) {
      counters.inc(stage.name, route.name, 'would_deny');
      if (!verdict.quiet) emitRefusal(events, subjectOf(ctx), { ...verdict, event: { stage: stage.name, ...verdict.event } }, 'would_block', verdict.status ?? defaultStatus(verdict.code));
      return undefined;
    }
    counters.inc(stage.name, route.name, 'denied');
    return { ...verdict, event: { stage: stage.name, ...verdict.event } };
  }

  function runStage(stage: StageInstance, ctx: RequestContext): Deny | undefined | Promise<Deny | undefined> {
    counters.inc(stage.name, route.name, 'evaluated');
    let out: Verdict | Promise<Verdict>;
    try {
      out = (stage.onRequest as NonNullable<StageInstance['onRequest']>)(ctx);
    } catch (err) {
      return failed(stage, ctx, err);
    }
    if (out instanceof Promise) return out.then((v) => decided(stage, ctx, v), (err: unknown) => failed(stage, ctx, err));
    return decided(stage, ctx, out);
  }

  async function finishAsync(list: readonly StageInstance[], from: number, pending: Promise<Deny | undefined>, ctx: RequestContext): Promise<Deny | undefined> {
    const first = await pending;
    if (first) return first;
    for (let i = from; i < list.length; i++) {
      const d = await runStage(list[i] as StageInstance, ctx);
      if (d) return d;
    }
    return undefined;
  }

  return {
    route,
    stages,
    hasPhase: (phase) => (byPhase.get(phase)?.length ?? 0) > 0,
    runPhase(phase, ctx) {
      const list = byPhase.get(phase);
      if (!list) return undefined;
      for (let i = 0; i < list.length; i++) {
        const d = runStage(list[i] as StageInstance, ctx);
        if (d instanceof Promise) return finishAsync(list, i + 1, d, ctx);
        if (d) return d;
      }
      return undefined;
    },
    responseFilters(ctx, head) {
      const out: ResponseFilter[] = [];
      for (const s of responders) {
        const f = s.onResponse?.(ctx, head);
        if (f) out.push(f);
      }
      return out;
    },
  };
}

function subjectOf(ctx: RequestContext) {
  return { requestId: ctx.id, method: ctx.method, path: ctx.path, sourceIp: ctx.clientIp, route: ctx.route.name, userId: ctx.identity?.subject };
}
