import type { RouteConfig, RouteKind } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import { defineStage, type ResponseFilter, type ResponseHead } from '../../core/stage.js';
import { CONTINUE } from '../../core/verdict.js';
import type { EventBus } from '../../events/bus.js';
import { canaryOf } from '../input-guard/canary.js';
import { jsonFilter, wholeBodyFilter } from './json-filter.js';
import { OutputPolicy, type OutputAction } from './policy.js';
import { compileRecognizers, type Recognizers } from './recognizers/index.js';
import { ndjsonFilter } from './ndjson-filter.js';
import { sseFilter } from './sse-filter.js';
import { textFilter } from './text-filter.js';
import { markJson, prepareMarking, stripIncomingTags, streamMarker, type Marking } from './watermarking.js';

type OutputConfig = NonNullable<RouteConfig['output']>;

function contentTypeOf(head: ResponseHead): string {
  const ct = head.headers['content-type'];
  const raw = (Array.isArray(ct) ? ct[0] : ct) ?? '';
  const type = raw.split(';')[0]?.trim().toLowerCase() ?? '';
  // The filters read UTF-8. Text in another charset (UTF-16, Latin-1…) would be misread, so it
  // is treated like an answer whose media type says nothing reliable.
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(raw)?.[1]?.toLowerCase();
  return charset !== undefined && !UTF8_CHARSETS.has(charset) ? '' : type;
}

const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

// Media types that are binary by definition. Only `json` and `passthrough` routes may serve them
// unchecked (an image or audio endpoint); an LLM route never answers with them, so there they
// are read like any unlabelled answer, and refused when they are not text.
const BINARY_TYPE = /^(?:image|audio|video|font|model)\/|^application\/(?:pdf|zip|gzip|x-tar|x-7z-compressed|wasm|vnd\.[\w.+-]*(?:zip|archive|package))$/;

/**
 * The filter for an answer's media type. An answer whose media type says nothing the guard can
 * rely on (none, `application/octet-stream`, XML, JavaScript…) is read whole as what it is —
 * JSON, an event stream, or text — and refused when it is not text: never passed on unchecked.
 */
export function filterFor(policy: OutputPolicy, contentType: string, kind: RouteKind, marking?: Marking): ResponseFilter | undefined {
  if (contentType === 'text/event-stream') return sseFilter(policy, marking ? streamMarker(marking) : undefined);
  if (contentType === 'application/json' || contentType.endsWith('+json')) return jsonFilter(policy, marking ? (doc) => markJson(doc, marking) : undefined);
  if (contentType === 'application/x-ndjson' || contentType === 'application/jsonl' || contentType === 'application/json-lines' || contentType === 'application/ndjson') return ndjsonFilter(policy);
  if (contentType.startsWith('text/')) return textFilter(policy);
  if (BINARY_TYPE.test(contentType) && (kind === 'passthrough' || kind === 'json')) return undefined;
  return wholeBodyFilter(policy, 'unlabelled');
}

/** The events of one answer: what was found, by class and count, never the value. */
function report(events: EventBus, ctx: RequestContext, policy: OutputPolicy, monitor: boolean): void {
  if (policy.found.size === 0) return;
  const subject = {
    requestId: ctx.id, route: ctx.route.name, method: ctx.method, path: ctx.path, sourceIp: ctx.clientIp, stage: 'output-guard',
    ...(ctx.identity ? { userId: ctx.identity.subject } : {}),
  };
  const byAction = new Map<OutputAction, Record<string, number>>();
  for (const [label, f] of policy.found) {
    if (f.cls === 'canary') continue;
    const counts = byAction.get(f.action) ?? {};
    counts[label] = (counts[label] ?? 0) + f.count;
    byAction.set(f.action, counts);
  }
  const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  const redacted = byAction.get('redact');
  if (redacted) events.emit({ ...subject, action: 'output.redacted', severity: 'medium', outcome: 'success', reason: Object.keys(redacted).join(','), details: { classes: redacted, count: total(redacted), action: 'redact' } });
  const logged = byAction.get('log');
  if (logged) events.emit({ ...subject, action: 'output.redacted', severity: 'medium', outcome: monitor ? 'would_block' : 'success', reason: Object.keys(logged).join(','), details: { classes: logged, count: total(logged), action: 'log' } });
  const blocked = byAction.get('block');
  if (blocked) events.emit({ ...subject, action: 'output.blocked', severity: 'high', outcome: 'failure', code: 'OUTPUT_BLOCKED', reason: Object.keys(blocked).join(','), details: { classes: blocked, count: total(blocked) } });
  const canary = policy.found.get('canary');
  if (canary) {
    events.emit({ ...subject, action: 'canary.leaked', severity: 'critical', outcome: canary.action === 'block' ? 'failure' : monitor ? 'would_block' : 'success', reason: 'system_prompt_leak', details: { action: canary.action, count: canary.count } });
    if (canary.action === 'block') events.emit({ ...subject, action: 'output.blocked', severity: 'high', outcome: 'failure', code: 'OUTPUT_BLOCKED', reason: 'canary', details: { classes: { canary: canary.count } } });
  }
}

/**
 * Output defense (G-8): secrets and PII in every answer (JSON strings after decoding, text,
 * error bodies, compressed bodies, SSE streams with deltas concatenated across events) are
 * redacted, blocked or logged; the request's canary in the answer is a leaked system prompt.
 */
export const outputGuardStage = defineStage({
  name: 'output-guard',
  build(route, { events, store }) {
    const cfg: OutputConfig | undefined = route.output;
    if (!cfg) return undefined;
    const recognizers: Recognizers = compileRecognizers(cfg.redact ?? []);
    const monitor = route.mode === 'monitor';
    // In monitor mode every match is reported as it would have been handled, and nothing changes.
    const act = (a: OutputAction): OutputAction => (monitor ? 'log' : a);
    const canaryAction: OutputAction | 'off' = cfg.canary ?? (route.input?.canary ? 'block' : 'off');
    const wm = cfg.watermark && (cfg.watermark.text || cfg.watermark.numbers !== 'off') ? cfg.watermark : undefined;
    return {
      name: 'output-guard',
      phase: 'inspect-request',
      onRequest(ctx) {
        // Ask for a plain answer; a compressed one is decoded before the filters anyway.
        ctx.upstreamHeaders['accept-encoding'] = 'identity';
        if (!wm) return CONTINUE;
        if (wm.text && ctx.body.type === 'json') stripIncomingTags(ctx.body.value);
        return prepareMarking(ctx, store, wm).then((m) => {
          ctx.locals.set('output-guard:marking', m);
          return CONTINUE;
        });
      },
      onResponse(ctx, head) {
        if (ctx.method === 'HEAD') return undefined;
        const marking = ctx.locals.get('output-guard:marking') as Marking | undefined;
        const token = canaryAction !== 'off' ? canaryOf(ctx) : undefined;
        const canary = token && canaryAction !== 'off' ? { canary: { token, action: act(canaryAction) } } : {};
        const policy = new OutputPolicy({ recognizers, onMatch: act(cfg.onMatch), kind: route.kind, ...canary });
        // Error answers are checked, never marked.
        const filter = filterFor(policy, contentTypeOf(head), route.kind, head.status < 400 ? marking : undefined);
        if (filter) ctx.onEnd(() => report(events, ctx, policy, monitor));
        return filter;
      },
    };
  },
});
