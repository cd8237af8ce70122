import { createHash, randomUUID } from 'node:crypto';
import { request } from 'undici';
import type DatabaseConstructor from 'better-sqlite3';
import type { EventInput, SecurityEvent, Severity } from '../event.js';
import { severityAtLeast } from '../event.js';
import type { EventSink } from '../sink.js';
import { createMemoryQueue, openWebhookQueue, type NewQueuedEvent, type QueuedEvent, type WebhookQueue } from './webhook-queue.js';
import {
  WEBHOOK_DELIVERY_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  signWebhook,
} from './webhook-signature.js';

export { verifyWebhookSignature, signWebhook, DEFAULT_SIGNATURE_TOLERANCE_SECONDS } from './webhook-signature.js';

export const DEFAULT_WEBHOOK_QUEUE_PATH = '.bulwark/webhook-queue.db';

export interface WebhookSinkOptions {
  url: string;
  /** HMAC key for `X-Bulwark-Signature`. Without one, deliveries are unsigned. */
  secret?: string | undefined;
  minSeverity?: Severity | undefined;
  /** How `alert.delivery_failed` is reported (the event bus's `emit`). Without it: stderr. */
  emit?: ((input: EventInput) => unknown) | undefined;
  /** SQLite file of the durable queue. Default `.bulwark/webhook-queue.db`. */
  queuePath?: string | undefined;
  /** `false`: an in-memory queue only (lost on restart). Default `true`. */
  durable?: boolean | undefined;
  /** Most events kept waiting (queue file + write buffer); beyond it the oldest are dropped. Default 100 000 (at most 10 000 when the queue is in memory). */
  maxQueue?: number | undefined;
  /** Events per POST. Default 50. */
  batchSize?: number | undefined;
  /** How long the first event of a batch waits for company. Default 1000 ms. */
  batchDelayMs?: number | undefined;
  /** How often written events move from memory into the queue file. Default 50 ms. */
  flushMs?: number | undefined;
  /** Per request (connect to end of response). Default 10 000 ms. */
  timeoutMs?: number | undefined;
  /** Backoff after the first failure; doubles per consecutive failure (with jitter). Default 1000 ms. */
  initialBackoffMs?: number | undefined;
  /** Backoff cap. Default 60 000 ms. */
  maxBackoffMs?: number | undefined;
  /** Attempts per event before it is given up (`alert.delivery_failed`). Default 12. */
  maxAttempts?: number | undefined;
  /** Also give an event up once it is this old after a failed attempt; `0` = no age limit. Default 0. */
  maxAgeMs?: number | undefined;
  /** How often an idle sink looks for rows another process (or the previous run) left. Default 5000 ms. */
  pollMs?: number | undefined;
  /** `close()` waits this long for a last delivery / the request in flight. Default 2000 ms. */
  closeTimeoutMs?: number | undefined;
  /** Queue key inside the file; default derived from the URL, so the same URL resumes the same rows. */
  queueKey?: string | undefined;
  /** For tests: how better-sqlite3 is loaded. */
  loadDriver?: (() => typeof DatabaseConstructor) | undefined;
}

export interface WebhookSinkStats {
  /** Events waiting (write buffer + queue). */
  queued: number;
  /** Events dropped because a bound was reached (never delivered, no `alert.delivery_failed`). */
  dropped: number;
  /** Events the receiver acknowledged with a 2xx. */
  delivered: number;
  /** Events given up after the last attempt or a non-retryable answer. */
  failed: number;
}

export interface WebhookSink extends EventSink {
  stats(): WebhookSinkStats;
  /** Which queue is in use: `'memory'` when SQLite was unavailable or `durable: false`. */
  readonly queueKind: 'sqlite' | 'memory';
}

/** Most rows moved from the write buffer into SQLite per event-loop turn (bounds one transaction). */
const FLUSH_CHUNK = 1000;
/** Most events a queue held in memory (SQLite unavailable or `durable: false`) keeps. */
const MAX_MEMORY_QUEUE = 10_000;
/** Ids listed in one `alert.delivery_failed` event. */
const MAX_REPORTED_IDS = 20;

let warnedNoSqlite = false;

/**
 * The event's stable id: ECS `event.id` when the event model sets one, otherwise a random UUID
 * minted here. Either way it is stored with the queued row, so it is the same on every retry and
 * after a restart; the receiver deduplicates by it.
 */
export function webhookEventId(event: SecurityEvent): string {
  const id = (event.event as { id?: unknown }).id;
  return typeof id === 'string' && id.length > 0 ? id : randomUUID();
}

/** The URL without credentials or query (which may carry a token), for logs and events. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

type Outcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; status?: number; error?: string; retryAfterMs?: number }
  | { kind: 'reject'; status: number }
  | { kind: 'aborted' };

/**
 * POSTs events in batches as `{"events":[...]}` (each event carries `event.id`), signed with
 * `X-Bulwark-Timestamp` and `X-Bulwark-Signature: sha256=<hex HMAC-SHA256(secret, "<ts>.<body>")>`,
 * and `X-Bulwark-Delivery` (a hash of the batch's ids: the same batch keeps its delivery id across
 * retries). `write` only appends to a bounded in-memory buffer; a timer moves it into the durable
 * queue (SQLite, one transaction per flush), and one delivery loop sends the oldest rows.
 *
 * Retried (exponential backoff with jitter, `Retry-After` honoured): network errors, timeouts,
 * 408, 425, 429 and 5xx. Any other answer (3xx, 4xx) gives the batch up at once. An event that
 * reaches `maxAttempts` (or `maxAgeMs`) is given up. Given-up events are reported as one
 * `alert.delivery_failed` per batch through `emit`; that event is never queued to this same sink
 * (it would fail the same way, in a loop), and a batch made only of other sinks'
 * `alert.delivery_failed` events is reported on stderr instead (no ping-pong between two failing
 * webhooks).
 *
 * Delivery is at-least-once: a row is deleted only after the receiver's 2xx, so a crash (or a
 * close that aborts a request) after the receiver accepted a batch but before the delete re-sends
 * it. Receivers must deduplicate by `event.id`. In the normal case (no crash between the receiver's
 * 2xx and the delete) each event arrives once.
 */
export function createWebhookSink(options: WebhookSinkOptions): WebhookSink {
  const batchSize = positive(options.batchSize, 50);
  const batchDelayMs = nonNegative(options.batchDelayMs, 1000);
  const flushMs = nonNegative(options.flushMs, 50);
  const timeoutMs = positive(options.timeoutMs, 10_000);
  const initialBackoffMs = positive(options.initialBackoffMs, 1000);
  const maxBackoffMs = Math.max(initialBackoffMs, positive(options.maxBackoffMs, 60_000));
  const maxAttempts = positive(options.maxAttempts, 12);
  const maxAgeMs = nonNegative(options.maxAgeMs, 0);
  const pollMs = positive(options.pollMs, 5000);
  const closeTimeoutMs = nonNegative(options.closeTimeoutMs, 2000);
  const maxQueue = positive(options.maxQueue, 100_000);
  // The write buffer is part of the bound, never bigger than it. A queue in memory (no SQLite)
  // holds at most 10 000 events, whatever maxQueue says: it is heap, not disk.
  const maxBuffer = Math.min(maxQueue, 10_000);
  const maxMemoryQueue = Math.min(maxQueue, MAX_MEMORY_QUEUE);
  const safeUrl = redactUrl(options.url);
  const name = `webhook:${safeUrl}`;
  const queueKey = options.queueKey ?? createHash('sha256').update(options.url).digest('hex').slice(0, 16);
  // A lease outlives the request that holds it (plus margin), so a crashed holder's rows come back.
  const leaseMs = timeoutMs + 5000;

  const queue: WebhookQueue =
    options.durable === false
      ? createMemoryQueue(maxMemoryQueue)
      : openWebhookQueue({
          path: options.queuePath ?? DEFAULT_WEBHOOK_QUEUE_PATH,
          queue: queueKey,
          maxEvents: maxQueue,
          maxMemoryEvents: maxMemoryQueue,
          ...(options.loadDriver ? { loadDriver: options.loadDriver } : {}),
          onFallback(reason) {
            if (warnedNoSqlite) return;
            warnedNoSqlite = true;
            process.stderr.write(`bulwark: webhook queue is in memory only (${reason}); undelivered alerts are lost on restart\n`);
          },
        });

  // Write buffer: `buffer[head..]` are live; dropping the oldest is `head++` (O(1) on the write path).
  let buffer: NewQueuedEvent[] = [];
  let head = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  let pumpTimer: NodeJS.Timeout | undefined;
  let pumpAt = Infinity;
  let inflight: Promise<void> | undefined;
  let consecutiveFailures = 0;
  let notBefore = 0;
  let closed = false;
  let closing: Promise<void> | undefined;
  const abort = new AbortController();
  let dropped = 0;
  let delivered = 0;
  let failed = 0;
  let warnedDrop = false;
  let warnedQueueError = false;

  const noteDrops = (n: number) => {
    if (n <= 0) return;
    dropped += n;
    if (!warnedDrop) {
      warnedDrop = true;
      process.stderr.write(`bulwark: ${name} queue is full (${maxQueue} events); the oldest undelivered events are dropped\n`);
    }
  };

  const buffered = () => buffer.length - head;

  /** Moves up to FLUSH_CHUNK buffered events into the queue. */
  const flush = () => {
    if (flushTimer) { clearTimeout(flushTimer); flushTimer = undefined; }
    if (buffered() === 0) return;
    const end = Math.min(buffer.length, head + FLUSH_CHUNK);
    const chunk = buffer.slice(head, end);
    head = end;
    if (head === buffer.length) { buffer = []; head = 0; }
    try {
      noteDrops(queue.add(chunk));
    } catch (err) {
      // Disk full, file removed, locked too long: those events are lost; the data path is not.
      noteDrops(chunk.length);
      if (!warnedQueueError) {
        warnedQueueError = true;
        process.stderr.write(`bulwark: ${name} queue write failed (${err instanceof Error ? err.message : String(err)}); events dropped\n`);
      }
    }
    if (buffered() > 0 && !closed) flushTimer = unref(setTimeout(flush, 0));
  };

  /** Runs the delivery loop at `now + delayMs` (the earliest requested time wins). */
  const schedule = (delayMs: number) => {
    if (closed) return;
    const at = Date.now() + Math.max(0, delayMs);
    if (pumpTimer && at >= pumpAt) return;
    if (pumpTimer) clearTimeout(pumpTimer);
    pumpAt = at;
    pumpTimer = unref(setTimeout(() => { pumpTimer = undefined; pumpAt = Infinity; pump(); }, Math.max(0, delayMs)));
  };

  const pump = () => {
    if (closed || inflight) return;
    const now = Date.now();
    if (now < notBefore) { schedule(notBefore - now); return; }
    flush();
    let rows: QueuedEvent[];
    try {
      rows = queue.claim(batchSize, now, now + leaseMs);
    } catch {
      schedule(pollMs);
      return;
    }
    if (rows.length === 0) { schedule(pollMs); return; }
    inflight = deliver(rows, abort.signal).catch(() => undefined).finally(() => {
      inflight = undefined;
      if (closed) return;
      if (Date.now() < notBefore) schedule(notBefore - Date.now());
      else if (rows.length >= batchSize || queue.size() >= batchSize) schedule(0);
      else if (queue.size() > 0) schedule(batchDelayMs);
      else schedule(pollMs);
    });
  };

  /** One batch: send, then delete / back off / give up. Never rejects. */
  const deliver = async (rows: QueuedEvent[], signal: AbortSignal): Promise<void> => {
    const events: unknown[] = [];
    const sent: QueuedEvent[] = [];
    const actions = new Map<number, string>();
    const broken: number[] = [];
    for (const r of rows) {
      const ev = parseEvent(r.line, r.id);
      if (!ev) { broken.push(r.seq); continue; }
      events.push(ev.event);
      actions.set(r.seq, ev.action);
      sent.push(r);
    }
    if (broken.length > 0) {
      safe(() => queue.remove(broken));
      noteDrops(broken.length);
    }
    if (sent.length === 0) return;
    const body = JSON.stringify({ events });
    const deliveryId = createHash('sha256').update(sent.map((r) => r.id).join('\n')).digest('hex').slice(0, 32);
    const outcome = await post(body, deliveryId, signal);
    const now = Date.now();
    const seqs = sent.map((r) => r.seq);
    switch (outcome.kind) {
      case 'delivered':
        safe(() => queue.remove(seqs));
        delivered += sent.length;
        consecutiveFailures = 0;
        notBefore = 0;
        return;
      case 'aborted':
        safe(() => queue.release(seqs));
        return;
      case 'reject':
        safe(() => queue.remove(seqs));
        giveUp(sent, actions, `receiver answered ${outcome.status}`, outcome.status);
        consecutiveFailures = 0; // the receiver is up; the next batch goes without delay
        notBefore = 0;
        return;
      case 'retry': {
        consecutiveFailures++;
        const delay = outcome.retryAfterMs !== undefined
          ? Math.min(maxBackoffMs, Math.max(outcome.retryAfterMs, initialBackoffMs))
          : backoff(consecutiveFailures, initialBackoffMs, maxBackoffMs);
        notBefore = now + delay;
        const last = sent.filter((r) => r.attempts + 1 >= maxAttempts || (maxAgeMs > 0 && now - r.createdAt >= maxAgeMs));
        const lastSeqs = new Set(last.map((r) => r.seq));
        safe(() => queue.retry(seqs.filter((s) => !lastSeqs.has(s)), notBefore));
        if (last.length > 0) {
          safe(() => queue.remove([...lastSeqs]));
          const why = outcome.status !== undefined ? `receiver answered ${outcome.status}` : `${outcome.error ?? 'network error'}`;
          giveUp(last, actions, `${why}; gave up after ${maxAttempts} attempts`, outcome.status);
        }
        return;
      }
    }
  };

  const post = async (body: string, deliveryId: string, closeSignal: AbortSignal): Promise<Outcome> => {
    const ts = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'bulwark-webhook',
      [WEBHOOK_TIMESTAMP_HEADER]: String(ts),
      [WEBHOOK_DELIVERY_HEADER]: deliveryId,
    };
    if (options.secret) headers[WEBHOOK_SIGNATURE_HEADER] = signWebhook(options.secret, ts, body);
    const signal = AbortSignal.any([closeSignal, AbortSignal.timeout(timeoutMs)]);
    try {
      const res = await request(options.url, {
        method: 'POST', headers, body, signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
      // The answer's body is not read beyond what it takes to reuse the connection.
      await res.body.dump({ limit: 64 * 1024, signal }).catch(() => undefined);
      const status = res.statusCode;
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      if (status === 408 || status === 425 || status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        return { kind: 'retry', status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      }
      return { kind: 'reject', status };
    } catch (err) {
      if (closeSignal.aborted) return { kind: 'aborted' };
      return { kind: 'retry', error: errorText(err) };
    }
  };

  const giveUp = (rows: readonly QueuedEvent[], actions: ReadonlyMap<number, string>, reason: string, status: number | undefined) => {
    failed += rows.length;
    const reportable = rows.filter((r) => actions.get(r.seq) !== 'alert.delivery_failed');
    const ids = rows.map((r) => r.id);
    if (reportable.length === 0 || !options.emit) {
      process.stderr.write(`bulwark: ${name} gave up ${rows.length} event(s) (${reason}); ids ${ids.slice(0, MAX_REPORTED_IDS).join(',')}\n`);
      if (reportable.length === 0) return;
    }
    const emit = options.emit;
    if (!emit) return;
    try {
      emit({
        action: 'alert.delivery_failed',
        outcome: 'failure',
        severity: 'high',
        reason,
        details: {
          sink: queueKey,
          url: safeUrl,
          ...(status !== undefined ? { status } : {}),
          events: rows.length,
          ids: ids.slice(0, MAX_REPORTED_IDS),
          attempts: Math.max(...rows.map((r) => r.attempts + 1)),
        },
      });
    } catch {
      // The bus never throws; if a test double does, the failure is already counted.
    }
  };

  // Resume what the previous run (or another process) left in the file.
  if (queue.kind === 'sqlite' && queue.size() > 0) schedule(0);
  else schedule(pollMs);

  return {
    name,
    queueKind: queue.kind,
    write(event, line) {
      if (closed) return;
      try {
        if (!severityAtLeast(event.bulwark.severity, options.minSeverity)) return;
        // Our own failure report would go to the receiver we just failed to reach.
        if (event.event.action === 'alert.delivery_failed' && event.bulwark['sink'] === queueKey) return;
        buffer.push({ id: webhookEventId(event), line, createdAt: Date.now() });
      } catch {
        dropped++; // a malformed event; never an exception into the data path
        return;
      }
      if (buffered() > maxBuffer) { head++; noteDrops(1); }
      if (!flushTimer) flushTimer = unref(setTimeout(flush, flushMs));
      else if (buffered() === FLUSH_CHUNK && flushMs > 0) {
        // A burst: move it now rather than let the buffer grow for the rest of flushMs.
        clearTimeout(flushTimer);
        flushTimer = unref(setTimeout(flush, 0));
      }
      if (buffered() >= batchSize) schedule(flushMs);
      else schedule(batchDelayMs);
    },
    stats() {
      let size = 0;
      try { size = queue.size(); } catch { /* closed */ }
      return { queued: buffered() + size, dropped, delivered, failed };
    },
    close() {
      closing ??= (async () => {
        closed = true;
        if (pumpTimer) clearTimeout(pumpTimer);
        pumpTimer = undefined;
        while (buffered() > 0) flush();
        const deadline = Date.now() + closeTimeoutMs;
        // A last delivery attempt (a CLI command's event, a graceful shutdown), unless the
        // receiver is known to be failing; rows left over stay in the file for the next start.
        while (!inflight && consecutiveFailures === 0 && Date.now() < deadline) {
          let rows: QueuedEvent[] = [];
          const now = Date.now();
          try { rows = queue.claim(batchSize, now, now + leaseMs); } catch { break; }
          if (rows.length === 0) break;
          const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()));
          inflight = deliver(rows, abort.signal).catch(() => undefined);
          await inflight;
          inflight = undefined;
          clearTimeout(timer);
        }
        if (inflight) {
          const left = Math.max(0, deadline - Date.now());
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([inflight, new Promise<void>((r) => { timer = setTimeout(r, left); })]);
          clearTimeout(timer);
          abort.abort();
          await inflight;
        }
        abort.abort();
        let left = 0;
        try { left = queue.size(); } catch { /* already closed */ }
        if (queue.kind === 'memory' && left > 0) {
          process.stderr.write(`bulwark: ${name} closed with ${left} undelivered event(s) in its in-memory queue; they are lost\n`);
        }
        try { queue.close(); } catch { /* nothing left to do */ }
      })();
      return closing;
    },
  };
}

/** The event as sent: the stored line with `event.id` set. `undefined` for a corrupt row. */
function parseEvent(line: string, id: string): { event: unknown; action: string } | undefined {
  try {
    const obj: unknown = JSON.parse(line);
    if (typeof obj !== 'object' || obj === null) return undefined;
    const ev = (obj as { event?: unknown }).event;
    if (typeof ev !== 'object' || ev === null) return undefined;
    const e = ev as { id?: unknown; action?: unknown };
    if (typeof e.id !== 'string' || e.id.length === 0) e.id = id;
    return { event: obj, action: typeof e.action === 'string' ? e.action : '' };
  } catch {
    return undefined;
  }
}

/** Exponential with "equal jitter": between half and all of `min(max, initial * 2^(n-1))`. */
export function backoff(failures: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : err.name;
  }
  return 'network error';
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // A queue that fails after open (file removed, disk full): the row comes back or is lost; the sink keeps running.
  }
}

function unref(t: NodeJS.Timeout): NodeJS.Timeout {
  t.unref();
  return t;
}

function positive(v: number | undefined, d: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : d;
}

function nonNegative(v: number | undefined, d: number): number {
  return v !== undefined && Number.isFinite(v) && v >= 0 ? v : d;
}
