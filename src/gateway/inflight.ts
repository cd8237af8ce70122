/** Counts requests in flight, so shutdown can wait for them (drain). A counter, not a set of
 * promises: this runs on every request and should allocate nothing. */
export interface Inflight {
  /** Counts a request in, unless `max` are already in flight (then false: refuse it). */
  tryStart(max: number): boolean;
  end(): void;
  readonly size: number;
  /** Resolves true when nothing is in flight, false when `timeoutMs` passed first. */
  drain(timeoutMs: number): Promise<boolean>;
}

export function createInflight(): Inflight {
  let active = 0;
  let waiters: Array<() => void> = [];
  return {
    tryStart(max) {
      if (active >= max) return false;
      active++;
      return true;
    },
    end() {
      active--;
      if (active === 0 && waiters.length > 0) {
        const w = waiters;
        waiters = [];
        for (const fn of w) fn();
      }
    },
    get size() {
      return active;
    },
    drain(timeoutMs) {
      if (active === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
  };
}
