import { StoreUnavailableError } from './store-unavailable.js';

export const DEFAULT_BUSY_TIMEOUT_MS = 200;

// Longest pause between two tries: short, because the usual holder of the lock is another
// gateway process whose write takes microseconds.
const MAX_PAUSE_MS = 10;

const isBusy = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
};

/**
 * Runs one synchronous better-sqlite3 operation, retrying while another connection holds the
 * lock it needs, until `busyTimeoutMs` has passed; then it fails as StoreUnavailableError.
 *
 * The connection's own busy_timeout is 0: SQLite's busy handler sleeps inside the call, and
 * better-sqlite3 runs on the event loop, so each waiting write would stall every other request
 * (and /healthz) for as long as it waits. Here the waits are timers between tries, so the
 * process keeps serving while one call waits. A busy statement or `BEGIN IMMEDIATE` changed
 * nothing, so trying it again is safe; `run` must read the clock itself on each try.
 */
export async function retryWhileBusy<T>(busyTimeoutMs: number, run: () => T): Promise<T> {
  const deadline = Date.now() + busyTimeoutMs;
  let pauseMs = 1;
  for (;;) {
    try {
      return run();
    } catch (err) {
      if (!isBusy(err)) throw err;
      const left = deadline - Date.now();
      if (left <= 0) throw new StoreUnavailableError('sqlite', 'database locked by another connection', { cause: err });
      // Jitter, so two waiting processes do not retry in lockstep.
      await new Promise((r) => setTimeout(r, Math.min(left, pauseMs * (0.5 + Math.random()))));
      pauseMs = Math.min(MAX_PAUSE_MS, pauseMs * 2);
    }
  }
}
