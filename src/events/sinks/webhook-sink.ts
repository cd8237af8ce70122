import { randomUUID } from 'node:crypto';
import type { SecurityEvent } from '../event.js';
import { severityAtLeast } from '../event.js';
import type { EventSink } from '../sink.js';
import { WebhookDelivery } from './webhook-delivery.js';
import { DEFAULT_WEBHOOK_QUEUE_PATH, resolveWebhookSettings, type WebhookSinkOptions } from './webhook-options.js';
import { createMemoryQueue, openWebhookQueue, type NewQueuedEvent, type WebhookQueue } from './webhook-queue.js';
import { WebhookWriteBuffer } from './webhook-write-buffer.js';

export { verifyWebhookSignature, signWebhook, DEFAULT_SIGNATURE_TOLERANCE_SECONDS } from './webhook-signature.js';
export { DEFAULT_WEBHOOK_QUEUE_PATH, redactUrl } from './webhook-options.js';
export type { WebhookSinkOptions } from './webhook-options.js';
export { backoff } from './webhook-delivery.js';

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

/**
 * POSTs events in batches as `{"events":[...]}` (each event carries `event.id`), signed with
 * `X-Bulwark-Timestamp` and `X-Bulwark-Signature: sha256=<hex HMAC-SHA256(secret, "<ts>.<body>")>`,
 * and `X-Bulwark-Delivery` (a hash of the batch's ids: the same batch keeps its delivery id across
 * retries). `write` only appends to a bounded in-memory buffer (webhook-write-buffer.ts); a timer
 * moves it into the durable queue (webhook-queue.ts: SQLite, one transaction per flush), and one
 * delivery loop (webhook-delivery.ts) sends the oldest rows (webhook-post.ts).
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
  const settings = resolveWebhookSettings(options);
  const { batchSize, batchDelayMs, flushMs, pollMs, maxQueue, name, queueKey } = settings;

  const queue: WebhookQueue =
    options.durable === false
      ? createMemoryQueue(settings.maxMemoryQueue)
      : openWebhookQueue({
          path: options.queuePath ?? DEFAULT_WEBHOOK_QUEUE_PATH,
          queue: queueKey,
          maxEvents: maxQueue,
          maxMemoryEvents: settings.maxMemoryQueue,
          ...(options.loadDriver ? { loadDriver: options.loadDriver } : {}),
          onFallback(reason) {
            if (warnedNoSqlite) return;
            warnedNoSqlite = true;
            process.stderr.write(`bulwark: webhook queue is in memory only (${reason}); undelivered alerts are lost on restart\n`);
          },
        });

  let closed = false;
  let closing: Promise<void> | undefined;
  let dropped = 0;
  let warnedDrop = false;

  const noteDrops = (n: number) => {
    if (n <= 0) return;
    dropped += n;
    if (!warnedDrop) {
      warnedDrop = true;
      process.stderr.write(`bulwark: ${name} queue is full (${maxQueue} events); the oldest undelivered events are dropped\n`);
    }
  };

  const buffer = new WebhookWriteBuffer({ queue, maxBuffer: settings.maxBuffer, flushMs, name, onDrops: noteDrops });
  const delivery = new WebhookDelivery({
    settings, queue, url: options.url, secret: options.secret, emit: options.emit,
    flush: () => buffer.flush(), onDrops: noteDrops,
  });

  // Resume what the previous run (or another process) left in the file.
  if (queue.kind === 'sqlite' && queue.size() > 0) delivery.schedule(0);
  else delivery.schedule(pollMs);

  return {
    name,
    queueKind: queue.kind,
    write(event, line) {
      if (closed) return;
      let row: NewQueuedEvent;
      try {
        if (!severityAtLeast(event.bulwark.severity, options.minSeverity)) return;
        // Our own failure report would go to the receiver we just failed to reach.
        if (event.event.action === 'alert.delivery_failed' && event.bulwark['sink'] === queueKey) return;
        row = { id: webhookEventId(event), line, createdAt: Date.now() };
      } catch {
        dropped++; // a malformed event; never an exception into the data path
        return;
      }
      buffer.add(row);
      if (buffer.size >= batchSize) delivery.schedule(flushMs);
      else delivery.schedule(batchDelayMs);
    },
    stats() {
      let size = 0;
      try { size = queue.size(); } catch { /* closed */ }
      return { queued: buffer.size + size, dropped, delivered: delivery.delivered, failed: delivery.failed };
    },
    close() {
      closing ??= (async () => {
        closed = true;
        delivery.stop();
        buffer.stop();
        await delivery.drain();
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
