import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import type { RequestContext } from '../core/context.js';
import type { RoutePipeline } from '../core/pipeline.js';
import { ResponseRefused, type ResponseFilter } from '../core/stage.js';
import type { Deny } from '../core/verdict.js';
import { decodedBody } from './decode-body.js';
import type { EventBus } from '../events/bus.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import { filterResponseHeaders } from '../http/header-policy.js';
import { sendProblem } from '../server/respond.js';
import { classifyUpstreamError } from './upstream-error.js';
import type { Upstream } from './upstream.js';
import type { RequestAbort } from './request-abort.js';

export interface ForwardInput {
  ctx: RequestContext;
  res: ServerResponse;
  upstream: Upstream;
  pipeline: RoutePipeline;
  events: EventBus;
  metrics: GatewayMetrics;
  headers: Record<string, string>;
  body: Buffer | string | undefined;
  /** Aborts the upstream request (client disconnect, shutdown). */
  abort: RequestAbort;
  /** Path plus the query string that policy allowed. */
  target: string;
}

/**
 * Sends the inspected request upstream and streams the answer back chunk by chunk, through the
 * route's response filters, honouring backpressure. Returns the status sent to the client.
 */
export async function forward(input: ForwardInput): Promise<number> {
  const { ctx, res, upstream, pipeline, events, abort } = input;
  const timeout = ctx.route.timeout ?? upstream.timeoutMs;
  const sentAt = performance.now();
  let up;
  try {
    up = await upstream.pool.request({
      path: upstream.basePath + input.target,
      method: ctx.method as 'POST',
      headers: input.headers,
      body: input.body ?? null,
      signal: abort,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  } catch (err) {
    if (abort.aborted) return 499;
    const { status, reason } = classifyUpstreamError(err);
    events.emit({
      action: 'upstream.error', severity: 'medium', outcome: 'failure', reason, code: 'UPSTREAM_UNAVAILABLE', status,
      requestId: ctx.id, route: ctx.route.name, method: ctx.method, path: ctx.path, sourceIp: ctx.clientIp,
      details: { upstream: upstream.name, phase: 'headers' },
    });
    return sendProblem(res, {
      code: 'UPSTREAM_UNAVAILABLE', status, requestId: ctx.id, kind: ctx.route.kind,
      detail: status === 504 ? 'The upstream did not answer in time.' : 'The upstream could not be reached.',
    });
  }

  input.metrics.upstreamResponded(ctx.route.name, (performance.now() - sentAt) / 1000);
  const rawHeaders = up.headers as IncomingHttpHeaders;
  const head = { status: up.statusCode, headers: rawHeaders as Record<string, string | string[] | undefined> };
  const filters = pipeline.responseFilters(ctx, head);
  const outHeaders: Record<string, string | string[]> = filterResponseHeaders(head.headers, upstream.forwardResponseHeaders);
  outHeaders['x-request-id'] = ctx.id;
  const stream = isEventStream(rawHeaders);
  if (stream) {
    // Proxies between us and the client must not buffer a stream either.
    outHeaders['cache-control'] = 'no-cache';
    outHeaders['x-accel-buffering'] = 'no';
  }
  const encoding = typeof rawHeaders['content-encoding'] === 'string' ? rawHeaders['content-encoding'] : undefined;
  // Filters read plain text: a compressed answer is decoded for them (and sent decoded). Without
  // filters the bytes pass as they came, with their Content-Encoding.
  const decoded = filters.length > 0 ? decodedBody(up.body, encoding) : undefined;
  if (decoded === 'unsupported') {
    up.body.destroy();
    return refuseAnswer(input, { action: 'deny', code: 'OUTPUT_BLOCKED', detail: 'The upstream answer could not be inspected.', event: { reason: 'unsupported_encoding' } });
  }
  const source = decoded ?? up.body;
  if (decoded === undefined && encoding !== undefined && filters.length === 0) outHeaders['content-encoding'] = encoding;
  // A body that filters may rewrite has no known length; otherwise keep the upstream's framing.
  const length = rawHeaders['content-length'];
  if (decoded === undefined && filters.every((f) => f.observeOnly) && typeof length === 'string' && ctx.method !== 'HEAD') outHeaders['content-length'] = length;

  if (filters.some((f) => f.wholeBody)) return sendWhole(input, up.statusCode, outHeaders, source, filters);

  if (stream) input.metrics.streamOpened();
  res.writeHead(up.statusCode, outHeaders);
  try {
    await pump(source, res, filters, timeout);
  } catch (err) {
    if (abort.aborted) return 499;
    up.body.destroy();
    if (err instanceof ResponseRefused) {
      input.metrics.blocked(err.verdict.event?.stage, err.verdict.code);
      // A filter stopped the stream: its closing bytes (an error event) if it has them, else cut.
      if (err.final && !res.destroyed) res.end(err.final);
      else res.destroy();
      return up.statusCode;
    }
    // The upstream died mid-answer. Text that has not passed the filters is dropped, and the
    // connection is cut so the client cannot take a truncated answer for a complete one.
    const { reason } = classifyUpstreamError(err);
    events.emit({
      action: 'upstream.error', severity: 'medium', outcome: 'failure', reason, code: 'UPSTREAM_UNAVAILABLE', status: up.statusCode,
      requestId: ctx.id, route: ctx.route.name, method: ctx.method, path: ctx.path, sourceIp: ctx.clientIp,
      details: { upstream: upstream.name, phase: 'body' },
    });
    res.destroy();
  } finally {
    if (stream) input.metrics.streamClosed();
  }
  return up.statusCode;
}

/** A refusal of the upstream's answer before anything of it was sent. */
function refuseAnswer(input: ForwardInput, verdict: Deny): number {
  const { ctx, res } = input;
  input.metrics.blocked(verdict.event?.stage, verdict.code);
  return sendProblem(res, { code: verdict.code, status: verdict.status, detail: verdict.detail, requestId: ctx.id, kind: ctx.route.kind, headers: verdict.headers });
}

/**
 * The whole body through the filters before the head is sent: a filter may still refuse the
 * answer with a status, and the client gets an exact Content-Length. The filters bound what
 * they hold (an answer too large to inspect is refused by them).
 */
async function sendWhole(input: ForwardInput, status: number, headers: Record<string, string | string[]>, source: Readable, filters: readonly ResponseFilter[]): Promise<number> {
  const { res, abort } = input;
  const parts: Buffer[] = [];
  try {
    for await (const chunk of source) {
      const out = applyFilters(filters, chunk as Buffer);
      if (out.length > 0) parts.push(out);
    }
    parts.push(endFilters(filters));
  } catch (err) {
    if (abort.aborted) return 499;
    source.destroy();
    if (err instanceof ResponseRefused) return refuseAnswer(input, err.verdict);
    const { status: failStatus, reason } = classifyUpstreamError(err);
    input.events.emit({
      action: 'upstream.error', severity: 'medium', outcome: 'failure', reason, code: 'UPSTREAM_UNAVAILABLE', status: failStatus,
      requestId: input.ctx.id, route: input.ctx.route.name, method: input.ctx.method, path: input.ctx.path, sourceIp: input.ctx.clientIp,
      details: { upstream: input.upstream.name, phase: 'body' },
    });
    return sendProblem(res, { code: 'UPSTREAM_UNAVAILABLE', status: 502, requestId: input.ctx.id, kind: input.ctx.route.kind, detail: 'The upstream answer broke off.' });
  }
  const body = Buffer.concat(parts);
  headers['content-length'] = String(body.length);
  res.writeHead(status, headers);
  res.end(input.ctx.method === 'HEAD' ? undefined : body);
  return status;
}

/**
 * Moves the upstream body to the client through the filters, reading only while the client's
 * socket accepts more (backpressure). `read()` hands over everything buffered at once, so the
 * many small chunks of an SSE answer that arrive together cost one write, not one each; a chunk
 * is still sent the moment it arrives. (Event-based rather than `for await`, whose iterator
 * wrapper is a measurable cost per response.)
 */
function pump(body: Readable, res: ServerResponse, filters: readonly ResponseFilter[], stallMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let waitingForDrain = false;
    // A client that stops reading pauses the upstream body, and undici's bodyTimeout does not run
    // while paused: without this deadline the upstream connection (and its admission slot) would
    // be held for as long as the client keeps its socket open. Destroying the response aborts the
    // request (handle-request's close listener), which frees both.
    let stall: NodeJS.Timeout | undefined;
    const done = (err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(stall);
      body.off('readable', onReadable).off('end', onEnd).off('error', done).off('close', onClose);
      res.off('drain', onDrain).off('close', onResClose);
      if (err) reject(err);
      else resolve();
    };
    const onReadable = () => {
      if (waitingForDrain) return;
      try {
        let chunk: Buffer | null;
        while ((chunk = body.read() as Buffer | null) !== null) {
          const out = filters.length === 0 ? chunk : applyFilters(filters, chunk);
          if (out.length > 0 && !res.write(out)) {
            waitingForDrain = true;
            stall = setTimeout(() => res.destroy(), stallMs);
            return;
          }
        }
      } catch (err) {
        done(err);
      }
    };
    const onDrain = () => {
      waitingForDrain = false;
      clearTimeout(stall);
      onReadable();
    };
    const onEnd = () => {
      try {
        const tail = filters.length === 0 ? undefined : endFilters(filters);
        res.end(tail !== undefined && tail.length > 0 ? tail : undefined);
        done();
      } catch (err) {
        done(err);
      }
    };
    // 'close' without 'end' means the upstream connection broke mid-answer.
    const onClose = () => done(new Error('upstream closed early'));
    const onResClose = () => done(new Error('client gone'));
    body.on('readable', onReadable).on('end', onEnd).on('error', done).on('close', onClose);
    res.on('drain', onDrain).on('close', onResClose);
  });
}

function applyFilters(filters: readonly ResponseFilter[], chunk: Buffer): Buffer {
  let out = chunk;
  for (const f of filters) out = f.onChunk(out);
  return out;
}

function endFilters(filters: readonly ResponseFilter[]): Buffer {
  // Each filter's tail still has to pass the filters after it.
  let carry = Buffer.alloc(0);
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i] as ResponseFilter;
    carry = Buffer.concat([carry.length > 0 ? f.onChunk(carry) : carry, f.onEnd()]);
  }
  return carry;
}

function isEventStream(headers: IncomingHttpHeaders): boolean {
  const ct = headers['content-type'];
  return typeof ct === 'string' && ct.toLowerCase().startsWith('text/event-stream');
}

function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('client gone'));
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      res.off('drain', onDrain);
      reject(new Error('client gone'));
    };
    res.once('drain', onDrain).once('close', onClose);
  });
}
