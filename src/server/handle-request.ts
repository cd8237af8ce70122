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
import type { Admission, AdmissionRefusal } from '../proxy/admission.js';
import { forward } from '../proxy/forward.js';
import { RequestAbort } from '../proxy/request-abort.js';
import { resolveClientAddress, type ClientAddress } from './client-address.js';
import { clientNetwork } from './client-network.js';
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
    const network = clientNetwork(addr.clientIp, config.server.ipv6Prefix);
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
      // Every answer here is a refusal that closes a connection with an unread body: marked now,
      // before the checks below wait on the store, so nothing pipelined behind it is processed.
      if (hasBody) markClosing(res);
      const unregistered = (v: Deny | undefined) => {
        if (v) return refuseEarly(r, v, undefined, hasBody, startedAt);
        deps.inventory?.record(method, target.path, undefined, 404, { ip: addr.clientIp, network });
        const sample = runtime.unregistered.report(network, `${method} ${target.path}`);
        const notFound = deny('ROUTE_NOT_FOUND', `No route for ${method} ${target.path.slice(0, 80)}.`, {
          quiet: !sample.write, ...(sample.suppressed > 0 ? { event: { details: { suppressed: sample.suppressed } } } : {}),
        });
        refuseEarly(r, notFound, undefined, hasBody, startedAt);
      };
      const pending = runtime.unregistered.check(network);
      if (!(pending instanceof Promise)) return unregistered(pending);
      // A store wait holds the connection: it counts against the in-flight bound like a routed request.
      if (!inflight.tryStart(config.server.limits.maxInflight)) return refuseEarly(r, gatewayBusy(config.server.limits.maxInflight, inflight.size), undefined, hasBody, startedAt);
      pending
        .then(unregistered, () => unregistered(undefined))
        .catch(() => res.destroy())
        .finally(() => inflight.end());
      return;
    }
    // The in-flight bound (server.limits.maxInflight) holds before anything of the request is read:
    // it is what bounds the memory bodies and their parsed copies can take (docs/operations.md).
    const maxInflight = config.server.limits.maxInflight;
    if (!inflight.tryStart(maxInflight)) {
      r.route = hit.endpoint ? undefined : hit.route.config.name;
      return refuseEarly(r, gatewayBusy(maxInflight, inflight.size), hit.endpoint ? undefined : hit.route.config.kind, hasBody, startedAt);
    }
    if (hit.endpoint) {
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
    if (!query.ok) {
      inflight.end();
      return refuseEarly(r, deny('INVALID_REQUEST', query.detail, { event: { reason: 'query_not_allowed' } }), route.config.kind, hasBody, startedAt);
    }

    const abort = new RequestAbort();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const ctx = new HttpRequestContext({
      id: requestId, startedAt, method, path: target.path, query: query.query, params: hit.params,
      headers: req.headers, rawHeaders: req.rawHeaders, socket: req.socket, clientIp: addr.clientIp, clientNetwork: network, peerIp: addr.peerIp, route: route.config, abort,
    });

    const p: Proceed = { deps, runtime, route, ctx, r, abort, addr, hasBody, upstreamSeconds: undefined };
    proceed(req, res, p).then(
      () => {
        const status = res.headersSent ? res.statusCode : 499;
        ctx.end(status);
        deps.inventory?.record(method, ctx.path, route.config.name, status, { ip: addr.clientIp, network });
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

function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

function gatewayBusy(limit: number, inflight: number): Deny {
  return deny('GATEWAY_BUSY', 'The gateway is at capacity; try again shortly.', {
    status: 503, headers: { 'retry-after': '1' }, event: { reason: 'max_inflight', details: { limit, inflight } },
  });
}

function upstreamBusy(name: string, reason: AdmissionRefusal, gate: Admission): Deny {
  const { slots, maxQueued, queueTimeoutMs } = gate.options;
  return deny('UPSTREAM_BUSY', reason === 'queue_full' ? 'Every upstream connection is busy and the queue is full.' : 'No upstream connection became free in time.', {
    status: 503,
    headers: { 'retry-after': retryAfterSeconds(queueTimeoutMs) },
    event: { reason, details: { upstream: name, connections: slots, queueMax: maxQueued, queueTimeoutMs, queued: gate.queued } },
  });
}

/** The phases from identify on: stages, body, upstream, audit. */
async function proceed(req: IncomingMessage, res: ServerResponse, p: Proceed): Promise<void> {
  const { route, ctx, r, hasBody } = p;
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
    const d = await readRequestBody(req, res, p, jsonKind);
    if (d === 'aborted') return;
    if (d) return refuse(r, d.verdict, rc.kind, d.close);
  }

  if (pipeline.hasPhase('inspect-request')) {
    const pending = pipeline.runPhase('inspect-request', ctx);
    const d = pending instanceof Promise ? await pending : pending;
    if (d) return refuse(r, d, rc.kind, false);
  }

  // upstream: a connection slot first (bounded wait, docs/operations.md), then an allowlisted
  // copy of the client's headers and the gateway's own.
  const upstream = route.upstream;
  const gate = upstream.admission;
  if (!gate.tryAcquire()) {
    const got = await gate.wait(p.abort);
    if (got === 'aborted') return;
    if (got !== 'admitted') return refuse(r, upstreamBusy(upstream.name, got, gate), rc.kind, false);
  }
  try {
    await sendUpstream(req, res, p);
  } finally {
    gate.release();
  }
}

/** A body refused, and whether the connection must close (the body was not read to its end). */
interface BodyRefusal {
  verdict: Deny;
  close: boolean;
}

/**
 * Reads and decodes the body into ctx.body. Its own function so that the raw bytes of a JSON
 * body are garbage once it returns: a request waiting for an upstream connection then holds
 * the parsed value only (docs/operations.md, "Memory per request").
 */
async function readRequestBody(req: IncomingMessage, res: ServerResponse, p: Proceed, jsonKind: boolean): Promise<BodyRefusal | 'aborted' | undefined> {
  const { ctx, hasBody } = p;
  const rc = p.route.config;
  const limits = p.runtime.config.server.limits;
  if (jsonKind) {
    const ct = checkJsonContentType(req.headers['content-type'], req.headers['content-encoding']);
    if (!ct.ok) return { verdict: deny('INVALID_INPUT', ct.detail, { status: ct.status, event: { reason: ct.reason } }), close: hasBody };
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared <= limits.bodyBytes && req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
  const read = await readBody(req, limits.bodyBytes);
  if (!read.ok) {
    if (read.reason === 'aborted') return 'aborted';
    return { verdict: deny('INVALID_INPUT', `The body exceeds ${limits.bodyBytes} bytes.`, { status: 413, event: { reason: 'too_large' } }), close: true };
  }
  if (jsonKind) {
    const decoded = decodeJsonBody(read.bytes, { maxDepth: limits.jsonDepth, requireObject: true });
    if (!decoded.ok) return { verdict: deny('INVALID_INPUT', decoded.detail, { status: decoded.status, event: { reason: decoded.reason } }), close: false };
    const body = decoded.value as Record<string, unknown>;
    const shape = checkKindSchema(rc.kind, body);
    if (!shape.ok) return { verdict: deny('INVALID_INPUT', shape.detail, { event: { reason: 'schema' } }), close: false };
    const cap = enforceOutputCaps(rc.kind, body, {
      maxTokens: rc.input?.maxTokens, clamp: rc.input?.clampTokens ?? false, field: rc.input?.maxTokensField ?? 'max_tokens', maxChoices: rc.input?.maxChoices ?? 1,
    });
    if (!cap.ok) return { verdict: deny('INVALID_INPUT', cap.detail, { event: { reason: cap.reason } }), close: false };
    ctx.body = { type: 'json', value: body };
  } else if (read.bytes.length > 0) {
    ctx.body = { type: 'raw', bytes: read.bytes, contentType: req.headers['content-type'] };
  }
  return undefined;
}

/** The admitted request: headers, body, forward, audit. */
async function sendUpstream(req: IncomingMessage, res: ServerResponse, p: Proceed): Promise<void> {
  const { route, ctx } = p;
  const { events } = p.deps;
  const rc = route.config;
  const { pipeline, upstream } = route;
  const headers = buildUpstreamRequestHeaders({ rawHeaders: req.rawHeaders, forwardAllowlist: upstream.forwardRequestHeaders });
  Object.assign(headers, ctx.upstreamHeaders, upstream.injectHeaders);
  headers['x-forwarded-for'] = p.addr.forwardedFor;
  headers['x-forwarded-proto'] = p.deps.secure ? 'https' : 'http';
  headers['x-request-id'] = ctx.id;
  let body: Buffer | string | undefined;
  if (ctx.body.type === 'json') {
    // The screened value, re-serialized: the upstream parses exactly what was inspected. As bytes:
    // undici copies a string body into a Buffer, so keeping the string would hold the body twice.
    body = Buffer.from(JSON.stringify(ctx.body.value));
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
