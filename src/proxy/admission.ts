import type { EventEmitter } from 'node:events';

/** Why a request could not get an upstream slot. */
export type AdmissionRefusal = 'queue_full' | 'queue_timeout';

export type AdmissionResult = 'admitted' | AdmissionRefusal | 'aborted';

export interface AdmissionOptions {
  /** Requests sent upstream at once: the pool's connections (pipelining is 1). */
  slots: number;
  /** Requests that may wait for a slot; 0 refuses at once when every slot is taken. */
  maxQueued: number;
  /** Longest wait for a slot. */
  queueTimeoutMs: number;
}

/**
 * The gate in front of one upstream pool. undici queues whatever its connections cannot take
 * without bound, and its headersTimeout only starts once a request is written to a socket, so
 * a hung upstream used to hold every extra request (and its body) for the whole upstream
 * timeout. Here a request either takes a free slot, waits in a bounded FIFO for at most
 * `queueTimeoutMs`, or is refused at once; the pool therefore never queues anything itself.
 */
export interface Admission {
  /** A slot now, without waiting (the fast path: no allocation). */
  tryAcquire(): boolean;
  /** Waits for a slot in arrival order. `abort` (the client left) takes the request out of the queue. */
  wait(abort: EventEmitter & { readonly aborted: boolean }): Promise<AdmissionResult>;
  /** Gives a slot back: the oldest waiter gets it. Call exactly once per admitted request. */
  release(): void;
  readonly active: number;
  readonly queued: number;
  readonly options: Readonly<AdmissionOptions>;
}

interface Waiter {
  settle(result: AdmissionResult): void;
}

export function createAdmission(options: AdmissionOptions): Admission {
  let active = 0;
  // A Set keeps insertion order and deletes in O(1): a waiter whose client leaves is removed at
  // once, so clients that queue and hang up cannot pile up dead entries.
  const waiters = new Set<Waiter>();
  return {
    options,
    get active() {
      return active;
    },
    get queued() {
      return waiters.size;
    },
    tryAcquire() {
      if (active >= options.slots || waiters.size > 0) return false;
      active++;
      return true;
    },
    wait(abort) {
      if (abort.aborted) return Promise.resolve('aborted');
      if (active < options.slots && waiters.size === 0) {
        active++;
        return Promise.resolve('admitted');
      }
      if (waiters.size >= options.maxQueued) return Promise.resolve('queue_full');
      return new Promise<AdmissionResult>((resolve) => {
        const onAbort = () => waiter.settle('aborted');
        const timer = setTimeout(() => waiter.settle('queue_timeout'), options.queueTimeoutMs);
        const waiter: Waiter = {
          settle(result) {
            if (!waiters.delete(waiter)) return;
            clearTimeout(timer);
            abort.off('abort', onAbort);
            resolve(result);
          },
        };
        waiters.add(waiter);
        abort.once('abort', onAbort);
      });
    },
    release() {
      active--;
      const next = waiters.values().next();
      if (next.done === true) return;
      // The slot passes straight to the oldest waiter: a newcomer cannot take it in between.
      active++;
      next.value.settle('admitted');
    },
  };
}
