import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { checkJsonContentType, decodeJsonBody } from '../body/index.js';
import type { RequestContext } from '../core/context.js';
import { emitRefusal, type RefusalSubject } from '../core/refusal-event.js';
import type { Deny } from '../core/verdict.js';
import { deny } from '../core/verdict.js';
import type { EventBus } from '../events/bus.js';
import { canonicalizeTarget, describeTargetReject } from '../http/canonical-path.js';
import { checkFraming } from '../http/framing.js';
import { buildUpstreamRequestHeaders } from '../http/header-policy.js';
import { enforceMaxTokens } from '../kinds/max-tokens.js';
import { checkKindSchema, isJsonKind } from '../kinds/request-schemas.js';
import type { CompiledRoute, Runtime } from '../gateway/runtime.js';
import { forward } from '../proxy/forward.js';
import { RequestAbort } from '../proxy/request-abort.js';
import { resolveClientAddress } from './client-address.js';
import { filterQuery } from './query-policy.js';
import { readBody } from './read-body.js';
import { isClosing, markClosing, sendProblem } from './respond.js';

export interface HandlerDeps {
  runtime(): Runtime;
  events: EventBus;
  /** Tracks in-flight requests for draining on shutdown. */
  inflight: { add(p: Promise<unknown>): void };
  /** Whether the connection uses TLS (for X-Forwarded-Proto). */
  secure: boolean;
}

/** The data-path request handler: the fixed phases of docs/lifecycle.md, in order. */
export function createRequestHandler(deps: HandlerDeps) {
  return function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    // A request pipelined behind an answer that closes the connection is never processed (RFC 9112
    // §9.6); it gets no answer either: the socket closes once the earlier answer is out.
    if (isClosing(req.socket)) return;
    const p = handle(req, res, deps).catch(() => {
      // Last resort: anything unexpected refuses (fail closed) without leaking what happened.
      if (!res.headersSent) sendProblem(res, { code: 'INTERNAL_ERROR', detail: 'The gateway could not process this request.', requestId: String(res.getHeader('x-request-id') ?? ''), close: true });
      else res.destroy();
    });
    deps.inflight.add(p);
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps): Promise<void> {
  const startedAt = performance.now();
  const runtime = deps.runtime();
  const { config } = runtime;
  const { events } = deps;
  const requestId = randomUUID();
  res.setHeader('x-request-id', requestId);
  const addr = resolveClientAddress(req, runtime.trust);
  const method = req.method ?? 'GET';
  const rawPath = (req.url ?? '').split('?')[0] ?? '';
  const subject: RefusalSubject = { requestId, method, path: rawPath, sourceIp: addr.clientIp };
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;

  const refuse = (v: Deny, kind?: CompiledRoute['config']['kind'], close = hasBody) => {
    const status = sendProblem(res, { code: v.code, status: v.status, detail: v.detail, requestId, kind, headers: v.headers, close });
    emitRefusal(events, subject, v, 'failure', status);
  };

  // connect: framing rules llhttp leaves to the application (G-1).
  const framing = checkFraming({ method, rawHeaders: req.rawHeaders, httpVersion: req.httpVersion }, { maxHeaderCount: config.server.limits.headerCount });
  if (!framing.ok) return refuse(deny('INVALID_REQUEST', framing.detail, { status: framing.status, event: { reason: framing.reason } }), undefined, true);

  // canonicalize: one canonical path, matched and forwarded as is (G-4).
  const target = canonicalizeTarget(req.url ?? '');
  if (!target.ok) return refuse(deny('INVALID_REQUEST', describeTargetReject(target.reason), { event: { reason: target.reason } }), undefined, true);
  subject.path = target.path;

  if (target.path === config.server.healthPath && (method === 'GET' || method === 'HEAD')) {
    if (hasBody) markClosing(res);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(hasBody ? { connection: 'close' } : {}) });
    res.end(method === 'HEAD' ? undefined : '{"status":"ok"}');
    return;
  }

  // route: default deny; unknown method+path never reaches an upstream (shadow API control).
  const hit = runtime.find(method, target.path);
  if (!hit) return refuse(deny('ROUTE_NOT_FOUND', `No route for ${method} ${target.path.slice(0, 80)}.`, { event: { action: 'route.unregistered', severity: 'medium' } }));
  const { route } = hit;
  const rc = route.config;
  subject.route = rc.name;

  const query = filterQuery(target.query, rc.query);
  if (!query.ok) return refuse(deny('INVALID_REQUEST', query.detail, { event: { reason: 'query_not_allowed' } }), rc.kind);

  const abort = new RequestAbort();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });

  const ctx: RequestContext = {
    id: requestId,
    startedAt,
    method,
    path: target.path,
    query: query.query,
    params: hit.params,
    headers: req.headers,
    clientIp: addr.clientIp,
    peerIp: addr.peerIp,
    route: rc,
    identity: undefined,
    body: { type: 'none' },
    upstreamHeaders: {},
    get signal() {
      return abort.signal;
    },
    locals: new Map(),
  };

  const { pipeline } = route;
  for (const phase of ['identify', 'authorize', 'limit'] as const) {
    if (!pipeline.hasPhase(phase)) continue;
    const d = await pipeline.runPhase(phase, ctx);
    subject.userId = ctx.identity?.subject;
    if (d) return refuse(d, rc.kind);
  }

  // read-body: bounded, complete before anything is forwarded (G-6, G-9).
  let upstreamBody: Buffer | string | undefined;
  if (hasBody || isJsonKind(rc.kind)) {
    const limits = config.server.limits;
    if (isJsonKind(rc.kind)) {
      const ct = checkJsonContentType(req.headers['content-type'], req.headers['content-encoding']);
      if (!ct.ok) return refuse(deny('INVALID_INPUT', ct.detail, { status: ct.status, event: { reason: ct.reason } }), rc.kind);
    }
    const read = await readBody(req, limits.bodyBytes);
    if (!read.ok) {
      if (read.reason === 'aborted') return;
      return refuse(deny('INVALID_INPUT', `The body exceeds ${limits.bodyBytes} bytes.`, { status: 413, event: { reason: 'too_large' } }), rc.kind, true);
    }
    if (isJsonKind(rc.kind)) {
      const decoded = decodeJsonBody(read.bytes, { maxDepth: limits.jsonDepth, requireObject: true });
      if (!decoded.ok) return refuse(deny('INVALID_INPUT', decoded.detail, { status: decoded.status, event: { reason: decoded.reason } }), rc.kind);
      const body = decoded.value as Record<string, unknown>;
      const shape = checkKindSchema(rc.kind, body);
      if (!shape.ok) return refuse(deny('INVALID_INPUT', shape.detail, { event: { reason: 'schema' } }), rc.kind);
      const cap = enforceMaxTokens(rc.kind, body, rc.input?.maxTokens, rc.input?.clampTokens ?? false);
      if (!cap.ok) return refuse(deny('INVALID_INPUT', cap.detail, { event: { reason: 'max_tokens' } }), rc.kind);
      ctx.body = { type: 'json', value: body };
    } else if (read.bytes.length > 0) {
      ctx.body = { type: 'raw', bytes: read.bytes, contentType: req.headers['content-type'] };
    }
  }

  if (pipeline.hasPhase('inspect-request')) {
    const d = await pipeline.runPhase('inspect-request', ctx);
    if (d) return refuse(d, rc.kind);
  }

  // upstream: an allowlisted copy of the client's headers, then the gateway's own.
  const headers = buildUpstreamRequestHeaders({ rawHeaders: req.rawHeaders, forwardAllowlist: route.upstream.forwardRequestHeaders });
  Object.assign(headers, ctx.upstreamHeaders, route.upstream.injectHeaders);
  headers['x-forwarded-for'] = addr.forwardedFor;
  headers['x-forwarded-proto'] = deps.secure ? 'https' : 'http';
  headers['x-request-id'] = requestId;
  if (ctx.body.type === 'json') {
    // The screened value, re-serialized: the upstream parses exactly what was inspected.
    upstreamBody = JSON.stringify(ctx.body.value);
    headers['content-type'] = 'application/json';
  } else if (ctx.body.type === 'raw') {
    upstreamBody = ctx.body.bytes;
  }

  const status = await forward({ ctx, res, upstream: route.upstream, pipeline, events, headers, body: upstreamBody, abort, target: ctx.path + (query.query !== undefined ? `?${query.query}` : '') });

  // audit (skipped entirely when nothing consumes it: no sink, no subscriber)
  if (events.wants('request.completed')) events.emit({
    action: 'request.completed', severity: 'low', outcome: status < 400 ? 'success' : 'failure', status, requestId, route: rc.name,
    method, path: ctx.path, sourceIp: ctx.clientIp, ...(ctx.identity ? { userId: ctx.identity.subject } : {}),
    details: { durationMs: Math.round((performance.now() - startedAt) * 100) / 100 },
  });
}
