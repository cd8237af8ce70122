import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { checkJsonContentType, decodeJsonBody } from '../body/index.js';
import type { RouteKind } from '../config/schema-route.js';
import { emitRefusal, type RefusalSubject } from '../core/refusal-event.js';
import { deny, type Deny } from '../core/verdict.js';
import type { LocalEndpoint } from '../core/stage.js';
import type { EventBus } from '../events/bus.js';
import type { CompiledRoute, Runtime } from '../gateway/runtime.js';
import type { Inflight } from '../gateway/inflight.js';
import { HEALTH_ROUTE, LOCAL_ROUTE, type GatewayMetrics } from '../metrics/metrics.js';
import { canonicalizeTarget, describeTargetReject } from '../http/canonical-path.js';
import { checkFraming } from '../http/framing.js';
import { buildUpstreamRequestHeaders } from '../http/header-policy.js';
import { enforceOutputCaps } from '../kinds/max-tokens.js';
import { checkKindSchema, isJsonKind } from '../kinds/request-schemas.js';
import { forward } from '../proxy/forward.js';
import { RequestAbort } from '../proxy/request-abort.js';
import { resolveClientAddress, type ClientAddress } from './client-address.js';
import { HttpRequestContext } from './http-request-context.js';
import { filterQuery } from './query-policy.js';
import type { InventoryRecorder } from '../inventory/recorder.js';
import { readBody } from './read-body.js';
import { isClosing, markClosing, sendProblem } from './respond.js';

export interface HandlerDeps {
  runtime(): Runtime;
  events: EventBus;
  /** Counts in-flight requests for draining on shutdown. */
  inflight: Inflight;
  /** Whether the connection uses TLS (for X-Forwarded-Proto). */
  secure: boolean;
  metrics: GatewayMetrics;
  /** Records every request for the endpoint inventory. */
  inventory?: InventoryRecorder;
}

/** What a refusal needs to know about the request (for its response and its event). */
interface Refusal extends RefusalSubject {
  res: ServerResponse;
  events: EventBus;
  metrics: GatewayMetrics;
}

function refuse(r: Refusal, v: Deny, kind: RouteKind | undefined, close: boolean): void {
  const status = sendProblem(r.res, { code: v.code, status: v.status, detail: v.detail, requestId: r.requestId, kind, headers: v.headers, close, fields: v.fields });
  r.metrics.blocked(v.event?.stage, v.code);
  if (!v.quiet) emitRefusal(r.events, r, v, 'failure', status);
}

/** A refusal before the phases (framing, path, routing, query): nothing else finishes these requests. */
function refuseEarly(r: Refusal, v: Deny, kind: RouteKind | undefined, close: boolean, startedAt: number): void {
  refuse(r, v, kind, close);
  r.metrics.requestFinished(r.route, r.res.statusCode, (performance.now() - startedAt) / 1000);
}

/**
 * The data-path request handler: the fixed phases of docs/lifecycle.md, in order. The phases up
 * to routing run synchronously, so a refusal that closes the connection is marked before Node
 * hands over a request pipelined behind it.
 */
export function createRequestHandler(deps: HandlerDeps) {
  const { events, inflight, metrics } = deps;
  return function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    // A request pipelined behind an answer that closes the connection is never processed (RFC 9112
    // §9.6); it gets no answer either: the socket closes once the earlier answer is out.
    if (isClosing(req.socket)) return;
    const startedAt = performance.now();
    const runtime = deps.runtime();
    const { config } = runtime;
    const requestId = randomUUID();
    const addr = resolveClientAddress(req, runtime.trust);
    const method = req.method ?? 'GET';
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const r: Refusal = { res, events, metrics, requestId, method, path: q < 0 ? url : url.slice(0, q), sourceIp: addr.clientIp };
    const cl = req.headers['content-length'];
    const hasBody = cl !== undefined ? cl !== '0' : req.headers['transfer-encoding'] !== undefined;

    // connect: framing rules llhttp leaves to the application (G-1).
    const framing = checkFraming({ method, rawHeaders: req.rawHeaders, httpVersion: req.httpVersion }, { maxHeaderCount: config.server.limits.headerCount });
    if (!framing.ok) return refuseEarly(r, deny('INVALID_REQUEST', framing.detail, { status: framing.status, event: { reason: framing.reason } }), undefined, true, startedAt);

    // canonicalize: one canonical path, matched and forwarded as is (G-4).
    const target = canonicalizeTarget(url);
    if (!target.ok) return refuseEarly(r, deny('INVALID_REQUEST', describeTargetReject(target.reason), { event: { reason: target.reason } }), undefined, true, startedAt);
    r.path = target.path;

    if (target.path === config.server.healthPath && (method === 'GET' || method === 'HEAD')) {
      if (hasBody) markClosing(res);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-request-id': requestId, ...(hasBody ? { connection: 'close' } : {}) });
      res.end(method === 'HEAD' ? undefined : '{"status":"ok"}');
      metrics.requestFinished(HEALTH_ROUTE, 200, (performance.now() - startedAt) / 1000);
      return;
    }

    // route: default deny; an unknown method+path never reaches an upstream (shadow API control).
    const hit = runtime.find(method, target.path);
    if (!hit) {
      deps.inventory?.record(method, target.path, undefined, 404, addr.clientIp);
      return refuseEarly(r, deny('ROUTE_NOT_FOUND', `No route for ${method} ${target.path.slice(0, 80)}.`), undefined, hasBody, startedAt);
    }
    if (hit.endpoint) {
      inflight.start();
      serveLocal(req, res, hit.endpoint, r, runtime.config.server.limits.bodyBytes).then(
        () => {
          inflight.end();
          metrics.requestFinished(LOCAL_ROUTE, res.headersSent ? res.statusCode : 499, (performance.now() - startedAt) / 1000);
        },
        () => {
          inflight.end();
          if (!res.headersSent) sendProblem(res, { code: 'INTERNAL_ERROR', detail: 'The gateway could not process this request.', requestId, close: true });
          else res.destroy();
          metrics.requestFinished(LOCAL_ROUTE, res.statusCode, (performance.now() - startedAt) / 1000);
        },
      );
      return;
    }
    const { route } = hit;
    r.route = route.config.name;

    const query = filterQuery(target.query, route.config.query);
    if (!query.ok) return refuseEarly(r, deny('INVALID_REQUEST', query.detail, { event: { reason: 'query_not_allowed' } }), route.config.kind, hasBody, startedAt);

    const abort = new RequestAbort();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const ctx = new HttpRequestContext({
      id: requestId, startedAt, method, path: target.path, query: query.query, params: hit.params,
      headers: req.headers, rawHeaders: req.rawHeaders, socket: req.socket, clientIp: addr.clientIp, peerIp: addr.peerIp, route: route.config, abort,
    });

    const p: Proceed = { deps, runtime, route, ctx, r, abort, addr, hasBody, upstreamSeconds: undefined };
    inflight.start();
    proceed(req, res, p).then(
      () => {
        const status = res.headersSent ? res.statusCode : 499;
        ctx.end(status);
        deps.inventory?.record(method, ctx.path, route.config.name, status, addr.clientIp);
        metrics.requestFinished(route.config.name, status, (performance.now() - startedAt) / 1000, p.upstreamSeconds);
        inflight.end();
      },
      () => {
        const status = res.headersSent ? res.statusCode : 500;
        ctx.end(status);
        metrics.requestFinished(route.config.name, status, (performance.now() - startedAt) / 1000, p.upstreamSeconds);
        inflight.end();
        // Last resort: anything unexpected refuses (fail closed) without leaking what happened.
        if (!res.headersSent) sendProblem(res, { code: 'INTERNAL_ERROR', detail: 'The gateway could not process this request.', requestId, close: true });
        else res.destroy();
      },
    );
  };
}

/** An endpoint the gateway answers itself (token endpoint, JWKS): never forwarded. */
async function serveLocal(req: IncomingMessage, res: ServerResponse, endpoint: LocalEndpoint, r: Refusal, bodyLimit: number): Promise<void> {
  const read = await readBody(req, Math.min(bodyLimit, endpoint.maxBodyBytes));
  if (!read.ok) {
    if (read.reason === 'aborted') return;
    return refuse(r, deny('INVALID_INPUT', 'The body is too large.', { status: 413, event: { reason: 'too_large' } }), undefined, true);
  }
  const out = await endpoint.handle({ requestId: r.requestId, method: r.method, headers: req.headers, rawHeaders: req.rawHeaders, body: read.bytes, clientIp: r.sourceIp });
  const body = Buffer.from(out.body);
  res.writeHead(out.status, { 'content-type': 'application/json', 'content-length': body.length, 'x-request-id': r.requestId, 'x-content-type-options': 'nosniff', ...out.headers });
  res.end(body);
}

interface Proceed {
  deps: HandlerDeps;
  runtime: Runtime;
  route: CompiledRoute;
  ctx: HttpRequestContext;
  r: Refusal;
  abort: RequestAbort;
  addr: ClientAddress;
  hasBody: boolean;
  /** Request sent upstream to last byte relayed; set once forward() returns. */
  upstreamSeconds: number | undefined;
}

/** The phases from identify on: stages, body, upstream, audit. */
async function proceed(req: IncomingMessage, res: ServerResponse, p: Proceed): Promise<void> {
  const { route, ctx, r, hasBody } = p;
  const { events } = p.deps;
  const rc = route.config;
  const { pipeline } = route;

  for (const phase of ['identify', 'authorize', 'limit'] as const) {
    if (!pipeline.hasPhase(phase)) continue;
    const pending = pipeline.runPhase(phase, ctx);
    const d = pending instanceof Promise ? await pending : pending;
    r.userId = ctx.identity?.subject;
    if (d) return refuse(r, d, rc.kind, hasBody);
  }

  // read-body: bounded, complete before anything is forwarded (G-6, G-9).
  const jsonKind = isJsonKind(rc.kind);
  if (hasBody || jsonKind) {
    const limits = p.runtime.config.server.limits;
    if (jsonKind) {
      const ct = checkJsonContentType(req.headers['content-type'], req.headers['content-encoding']);
      if (!ct.ok) return refuse(r, deny('INVALID_INPUT', ct.detail, { status: ct.status, event: { reason: ct.reason } }), rc.kind, hasBody);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared <= limits.bodyBytes && req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
    const read = await readBody(req, limits.bodyBytes);
    if (!read.ok) {
      if (read.reason === 'aborted') return;
      return refuse(r, deny('INVALID_INPUT', `The body exceeds ${limits.bodyBytes} bytes.`, { status: 413, event: { reason: 'too_large' } }), rc.kind, true);
    }
    if (jsonKind) {
      const decoded = decodeJsonBody(read.bytes, { maxDepth: limits.jsonDepth, requireObject: true });
      if (!decoded.ok) return refuse(r, deny('INVALID_INPUT', decoded.detail, { status: decoded.status, event: { reason: decoded.reason } }), rc.kind, false);
      const body = decoded.value as Record<string, unknown>;
      const shape = checkKindSchema(rc.kind, body);
      if (!shape.ok) return refuse(r, deny('INVALID_INPUT', shape.detail, { event: { reason: 'schema' } }), rc.kind, false);
      const cap = enforceOutputCaps(rc.kind, body, {
        maxTokens: rc.input?.maxTokens, clamp: rc.input?.clampTokens ?? false, field: rc.input?.maxTokensField ?? 'max_tokens', maxChoices: rc.input?.maxChoices ?? 1,
      });
      if (!cap.ok) return refuse(r, deny('INVALID_INPUT', cap.detail, { event: { reason: cap.reason } }), rc.kind, false);
      ctx.body = { type: 'json', value: body };
    } else if (read.bytes.length > 0) {
      ctx.body = { type: 'raw', bytes: read.bytes, contentType: req.headers['content-type'] };
    }
  }

  if (pipeline.hasPhase('inspect-request')) {
    const pending = pipeline.runPhase('inspect-request', ctx);
    const d = pending instanceof Promise ? await pending : pending;
    if (d) return refuse(r, d, rc.kind, false);
  }

  // upstream: an allowlisted copy of the client's headers, then the gateway's own.
  const upstream = route.upstream;
  const headers = buildUpstreamRequestHeaders({ rawHeaders: req.rawHeaders, forwardAllowlist: upstream.forwardRequestHeaders });
  Object.assign(headers, ctx.upstreamHeaders, upstream.injectHeaders);
  headers['x-forwarded-for'] = p.addr.forwardedFor;
  headers['x-forwarded-proto'] = p.deps.secure ? 'https' : 'http';
  headers['x-request-id'] = ctx.id;
  let body: Buffer | string | undefined;
  if (ctx.body.type === 'json') {
    // The screened value, re-serialized: the upstream parses exactly what was inspected.
    body = JSON.stringify(ctx.body.value);
    headers['content-type'] = 'application/json';
  } else if (ctx.body.type === 'raw') {
    body = ctx.body.bytes;
  }
  const target = ctx.query !== undefined ? `${ctx.path}?${ctx.query}` : ctx.path;
  ctx.forwarded = true;
  const sentAt = performance.now();
  const status = await forward({ ctx, res, upstream, pipeline, events, metrics: p.deps.metrics, headers, body, abort: p.abort, target });
  p.upstreamSeconds = (performance.now() - sentAt) / 1000;

  // audit (skipped entirely when nothing consumes it: no sink, no subscriber)
  if (events.wants('request.completed')) {
    events.emit({
      action: 'request.completed', severity: 'low', outcome: status < 400 ? 'success' : 'failure', status, requestId: ctx.id, route: rc.name,
      method: ctx.method, path: ctx.path, sourceIp: ctx.clientIp, ...(ctx.identity ? { userId: ctx.identity.subject } : {}),
      details: { durationMs: Math.round((performance.now() - ctx.startedAt) * 100) / 100 },
    });
  }
}
