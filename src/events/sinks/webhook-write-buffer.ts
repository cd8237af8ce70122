import type { NewQueuedEvent, WebhookQueue } from './webhook-queue.js';

/**
 * The webhook sink's write path: `write` only appends to a bounded array, and a timer moves it into
 * the queue in chunks (one SQLite transaction each), so the request path never waits on the disk.
 */

/** Most rows moved from the write buffer into SQLite per event-loop turn (bounds one transaction). */
export const FLUSH_CHUNK = 1000;

export interface WebhookWriteBufferOptions {
  queue: WebhookQueue;
  /** Most events held; beyond it the oldest is dropped. */
  maxBuffer: number;
  flushMs: number;
  /** The sink's name, for the warning on a failed queue write. */
  name: string;
  /** Events lost: the buffer or the queue was full, or a queue write failed. */
  onDrops: (n: number) => void;
}

export class WebhookWriteBuffer {
  readonly #queue: WebhookQueue;
  readonly #maxBuffer: number;
  readonly #flushMs: number;
  readonly #name: string;
  readonly #onDrops: (n: number) => void;
  // `#rows[#head..]` are live; dropping the oldest is `#head++` (O(1) on the write path).
  #rows: NewQueuedEvent[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #warnedQueueError = false;

  constructor(options: WebhookWriteBufferOptions) {
    this.#queue = options.queue;
    this.#maxBuffer = options.maxBuffer;
    this.#flushMs = options.flushMs;
    this.#name = options.name;
    this.#onDrops = options.onDrops;
  }

  /** Events waiting here (not yet in the queue). */
  get size(): number {
    return this.#rows.length - this.#head;
  }

  add(row: NewQueuedEvent): void {
    this.#rows.push(row);
    if (this.size > this.#maxBuffer) { this.#head++; this.#onDrops(1); }
    if (!this.#timer) this.#timer = setTimeout(() => this.flush(), this.#flushMs).unref();
    else if (this.size === FLUSH_CHUNK && this.#flushMs > 0) {
      // A burst: move it now rather than let the buffer grow for the rest of flushMs.
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.flush(), 0).unref();
    }
  }

  /** Moves up to FLUSH_CHUNK buffered events into the queue. */
  flush(): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (this.size === 0) return;
    const end = Math.min(this.#rows.length, this.#head + FLUSH_CHUNK);
    const chunk = this.#rows.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#rows.length) { this.#rows = []; this.#head = 0; }
    try {
      this.#onDrops(this.#queue.add(chunk));
    } catch (err) {
      // Disk full, file removed, locked too long: those events are lost; the data path is not.
      this.#onDrops(chunk.length);
      if (!this.#warnedQueueError) {
        this.#warnedQueueError = true;
        process.stderr.write(`bulwark: ${this.#name} queue write failed (${err instanceof Error ? err.message : String(err)}); events dropped\n`);
      }
    }
    if (this.size > 0 && !this.#stopped) this.#timer = setTimeout(() => this.flush(), 0).unref();
  }

  /** No more timers: everything still buffered moves into the queue now. */
  stop(): void {
    this.#stopped = true;
    while (this.size > 0) this.flush();
  }
}
