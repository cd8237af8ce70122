import { createHash } from 'node:crypto';
import type DatabaseConstructor from 'better-sqlite3';
import type { EventInput, Severity } from '../event.js';

/**
 * The webhook sink's options and the settings derived from them once, at creation: defaults for
 * what is unset or out of range, the bounds that follow from `maxQueue`, and the names used in
 * logs, events and the queue file.
 */

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

/** The options with every default applied. */
export interface WebhookSettings {
  readonly batchSize: number;
  readonly batchDelayMs: number;
  readonly flushMs: number;
  readonly timeoutMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxAttempts: number;
  readonly maxAgeMs: number;
  readonly pollMs: number;
  readonly closeTimeoutMs: number;
  readonly maxQueue: number;
  /** Most events the write buffer holds. */
  readonly maxBuffer: number;
  /** Most events a queue held in memory keeps. */
  readonly maxMemoryQueue: number;
  /** The URL as logs and events show it (see `redactUrl`). */
  readonly safeUrl: string;
  /** The sink's name: `webhook:<safeUrl>`. */
  readonly name: string;
  readonly queueKey: string;
  /** How long a claimed row stays leased to this sink. */
  readonly leaseMs: number;
}

/** Most events a queue held in memory (SQLite unavailable or `durable: false`) keeps. */
const MAX_MEMORY_QUEUE = 10_000;

export function resolveWebhookSettings(options: WebhookSinkOptions): WebhookSettings {
  const timeoutMs = positive(options.timeoutMs, 10_000);
  const initialBackoffMs = positive(options.initialBackoffMs, 1000);
  const maxQueue = positive(options.maxQueue, 100_000);
  const safeUrl = redactUrl(options.url);
  return {
    batchSize: positive(options.batchSize, 50),
    batchDelayMs: nonNegative(options.batchDelayMs, 1000),
    flushMs: nonNegative(options.flushMs, 50),
    timeoutMs,
    initialBackoffMs,
    maxBackoffMs: Math.max(initialBackoffMs, positive(options.maxBackoffMs, 60_000)),
    maxAttempts: positive(options.maxAttempts, 12),
    maxAgeMs: nonNegative(options.maxAgeMs, 0),
    pollMs: positive(options.pollMs, 5000),
    closeTimeoutMs: nonNegative(options.closeTimeoutMs, 2000),
    maxQueue,
    // The write buffer is part of the bound, never bigger than it. A queue in memory (no SQLite)
    // holds at most 10 000 events, whatever maxQueue says: it is heap, not disk.
    maxBuffer: Math.min(maxQueue, 10_000),
    maxMemoryQueue: Math.min(maxQueue, MAX_MEMORY_QUEUE),
    safeUrl,
    name: `webhook:${safeUrl}`,
    queueKey: options.queueKey ?? createHash('sha256').update(options.url).digest('hex').slice(0, 16),
    // A lease outlives the request that holds it (plus margin), so a crashed holder's rows come back.
    leaseMs: timeoutMs + 5000,
  };
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

function positive(v: number | undefined, d: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : d;
}

function nonNegative(v: number | undefined, d: number): number {
  return v !== undefined && Number.isFinite(v) && v >= 0 ? v : d;
}
