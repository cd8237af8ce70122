import { createHash } from 'node:crypto';
import type { EventInput } from '../event.js';
import type { WebhookSettings } from './webhook-options.js';
import { postWebhookBatch, type WebhookTarget } from './webhook-post.js';
import type { QueuedEvent, WebhookQueue } from './webhook-queue.js';

/**
 * The webhook sink's delivery loop: one batch in flight at a time, taken from the oldest claimable
 * rows of the queue. A row is deleted only after the receiver's 2xx (or when it is given up), so
 * whatever is not acknowledged comes back: after a backoff, a lease that ran out, or a restart.
 */

/** Ids listed in one `alert.delivery_failed` event. */
const MAX_REPORTED_IDS = 20;

export interface WebhookDeliveryOptions {
  settings: WebhookSettings;
  queue: WebhookQueue;
  url: string;
  /** HMAC key for `X-Bulwark-Signature`. Without one, deliveries are unsigned. */
  secret?: string | undefined;
  /** How `alert.delivery_failed` is reported. Without it: stderr. */
  emit?: ((input: EventInput) => unknown) | undefined;
  /** Moves written events into the queue; called before each claim. */
  flush: () => void;
  /** Rows dropped because they could not be read back (corrupt). */
  onDrops: (n: number) => void;
}

export class WebhookDelivery {
  readonly #s: WebhookSettings;
  readonly #queue: WebhookQueue;
  readonly #target: WebhookTarget;
  readonly #emit: ((input: EventInput) => unknown) | undefined;
  readonly #flush: () => void;
  readonly #onDrops: (n: number) => void;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #inflight: Promise<void> | undefined;
  #consecutiveFailures = 0;
  #notBefore = 0;
  #stopped = false;
  #delivered = 0;
  #failed = 0;

  constructor(options: WebhookDeliveryOptions) {
    this.#s = options.settings;
    this.#queue = options.queue;
    this.#target = { url: options.url, secret: options.secret, timeoutMs: options.settings.timeoutMs };
    this.#emit = options.emit;
    this.#flush = options.flush;
    this.#onDrops = options.onDrops;
  }

  /** Events the receiver acknowledged with a 2xx. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Events given up after the last attempt or a non-retryable answer. */
  get failed(): number {
    return this.#failed;
  }

  /** Runs the delivery loop at `now + delayMs` (the earliest requested time wins). */
  schedule(delayMs: number): void {
    if (this.#stopped) return;
    const at = Date.now() + Math.max(0, delayMs);
    if (this.#timer && at >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => { this.#timer = undefined; this.#timerAt = Infinity; this.#pump(); }, Math.max(0, delayMs)).unref();
  }

  /** The loop runs no more; `drain` may still send what is left. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * After `stop`: waits up to `closeTimeoutMs` for the request in flight or, when there is none,
   * sends what it can in that time, then aborts whatever is still in flight.
   */
  async drain(): Promise<void> {
    const { batchSize, leaseMs } = this.#s;
    const deadline = Date.now() + this.#s.closeTimeoutMs;
    // A last delivery attempt (a CLI command's event, a graceful shutdown), unless the
    // receiver is known to be failing; rows left over stay in the file for the next start.
    while (!this.#inflight && this.#consecutiveFailures === 0 && Date.now() < deadline) {
      let rows: QueuedEvent[] = [];
      const now = Date.now();
      try { rows = this.#queue.claim(batchSize, now, now + leaseMs); } catch { break; }
      if (rows.length === 0) break;
      const timer = setTimeout(() => this.#abort.abort(), Math.max(0, deadline - Date.now()));
      this.#inflight = this.#deliver(rows, this.#abort.signal).catch(() => undefined);
      await this.#inflight;
      this.#inflight = undefined;
      clearTimeout(timer);
    }
    if (this.#inflight) {
      const left = Math.max(0, deadline - Date.now());
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#inflight, new Promise<void>((r) => { timer = setTimeout(r, left); })]);
      clearTimeout(timer);
      this.#abort.abort();
      await this.#inflight;
    }
    this.#abort.abort();
  }

  #pump(): void {
    if (this.#stopped || this.#inflight) return;
    const { batchSize, batchDelayMs, pollMs, leaseMs } = this.#s;
    const now = Date.now();
    if (now < this.#notBefore) { this.schedule(this.#notBefore - now); return; }
    this.#flush();
    let rows: QueuedEvent[];
    try {
      rows = this.#queue.claim(batchSize, now, now + leaseMs);
    } catch {
      this.schedule(pollMs);
      return;
    }
    if (rows.length === 0) { this.schedule(pollMs); return; }
    this.#inflight = this.#deliver(rows, this.#abort.signal).catch(() => undefined).finally(() => {
      this.#inflight = undefined;
      if (this.#stopped) return;
      if (Date.now() < this.#notBefore) this.schedule(this.#notBefore - Date.now());
      else if (rows.length >= batchSize || this.#queue.size() >= batchSize) this.schedule(0);
      else if (this.#queue.size() > 0) this.schedule(batchDelayMs);
      else this.schedule(pollMs);
    });
  }

  /** One batch: send, then delete / back off / give up. Never rejects. */
  async #deliver(rows: QueuedEvent[], signal: AbortSignal): Promise<void> {
    const { initialBackoffMs, maxBackoffMs, maxAttempts, maxAgeMs } = this.#s;
    const queue = this.#queue;
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
      this.#onDrops(broken.length);
    }
    if (sent.length === 0) return;
    const body = JSON.stringify({ events });
    const deliveryId = createHash('sha256').update(sent.map((r) => r.id).join('\n')).digest('hex').slice(0, 32);
    const outcome = await postWebhookBatch(this.#target, body, deliveryId, signal);
    const now = Date.now();
    const seqs = sent.map((r) => r.seq);
    switch (outcome.kind) {
      case 'delivered':
        safe(() => queue.remove(seqs));
        this.#delivered += sent.length;
        this.#consecutiveFailures = 0;
        this.#notBefore = 0;
        return;
      case 'aborted':
        safe(() => queue.release(seqs));
        return;
      case 'reject':
        safe(() => queue.remove(seqs));
        this.#giveUp(sent, actions, `receiver answered ${outcome.status}`, outcome.status);
        this.#consecutiveFailures = 0; // the receiver is up; the next batch goes without delay
        this.#notBefore = 0;
        return;
      case 'retry': {
        this.#consecutiveFailures++;
        const delay = outcome.retryAfterMs !== undefined
          ? Math.min(maxBackoffMs, Math.max(outcome.retryAfterMs, initialBackoffMs))
          : backoff(this.#consecutiveFailures, initialBackoffMs, maxBackoffMs);
        const notBefore = now + delay;
        this.#notBefore = notBefore;
        const last = sent.filter((r) => r.attempts + 1 >= maxAttempts || (maxAgeMs > 0 && now - r.createdAt >= maxAgeMs));
        const lastSeqs = new Set(last.map((r) => r.seq));
        safe(() => queue.retry(seqs.filter((s) => !lastSeqs.has(s)), notBefore));
        if (last.length > 0) {
          safe(() => queue.remove([...lastSeqs]));
          const why = outcome.status !== undefined ? `receiver answered ${outcome.status}` : `${outcome.error ?? 'network error'}`;
          this.#giveUp(last, actions, `${why}; gave up after ${maxAttempts} attempts`, outcome.status);
        }
        return;
      }
    }
  }

  #giveUp(rows: readonly QueuedEvent[], actions: ReadonlyMap<number, string>, reason: string, status: number | undefined): void {
    const { name, queueKey, safeUrl } = this.#s;
    this.#failed += rows.length;
    const reportable = rows.filter((r) => actions.get(r.seq) !== 'alert.delivery_failed');
    const ids = rows.map((r) => r.id);
    if (reportable.length === 0 || !this.#emit) {
      process.stderr.write(`bulwark: ${name} gave up ${rows.length} event(s) (${reason}); ids ${ids.slice(0, MAX_REPORTED_IDS).join(',')}\n`);
      if (reportable.length === 0) return;
    }
    const emit = this.#emit;
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
  }
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

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // A queue that fails after open (file removed, disk full): the row comes back or is lost; the sink keeps running.
  }
}
