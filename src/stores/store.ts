/**
 * The one state-store contract. Every stage that keeps state (API keys, bans, counters,
 * inventory) talks to this interface only, so `state.store: memory | sqlite | redis` is a
 * config choice and never a code change. Every implementation runs the same contract suite
 * (`contract.test-suite.ts`).
 *
 * Keys are opaque strings; implementations apply their own prefix. TTLs are in milliseconds;
 * `undefined` means no expiry, and anything else must be a positive finite number (otherwise
 * the call rejects with a RangeError). Expired entries are never returned. A key holds one
 * kind of entry (value/counter or set); using one key for both is unspecified.
 */
export interface HitResult {
  allowed: boolean;
  count: number;
  resetMs: number;
}

export interface SpendResult {
  allowed: boolean;
  /** Units in the window after this call (an over-spent window may exceed the limit). */
  total: number;
  /**
   * 0 when allowed. When refused: ms until enough units leave the window for `amount` to fit,
   * or `windowMs` when `amount` alone exceeds `limit` (it never fits).
   */
  resetMs: number;
  /** Handle of the recorded entry, for `settle`; '' when refused. */
  entry: string;
}

export interface Store {
  /** Which implementation this is, for status pages and events. */
  readonly kind: 'memory' | 'sqlite' | 'redis';

  /** The string stored at `key`, or `undefined` when absent or expired. */
  get(key: string): Promise<string | undefined>;

  /** Store `value` at `key`, replacing any value (and its TTL). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;

  /**
   * Store `value` only when `key` is absent (or expired). Returns true when it was stored.
   * Used for first-seen records and locks; atomic across callers of the same store.
   */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;

  /** Remove `key` (a value, counter or set). Returns true when something was removed. */
  delete(key: string): Promise<boolean>;

  /**
   * Atomically add `by` (default 1, may be negative) to the integer counter at `key`
   * and return the new value. A missing or expired counter starts at 0. When `ttlMs` is
   * given and the counter was just created, it expires after `ttlMs`; an existing counter
   * keeps its expiry. Rejects with a RangeError when `by` is not a safe integer, and with a
   * TypeError when `key` holds a value that is not a canonical decimal integer.
   */
  increment(key: string, by?: number, ttlMs?: number): Promise<number>;

  /** Add members to the set at `key`; returns how many were new. `ttlMs` refreshes the set's expiry. */
  setAdd(key: string, members: readonly string[], ttlMs?: number): Promise<number>;

  /** Remove members from the set at `key`; returns how many were removed. */
  setRemove(key: string, members: readonly string[]): Promise<number>;

  /** The members of the set at `key` (empty when absent), in no guaranteed order. */
  setMembers(key: string): Promise<string[]>;

  /** Remaining lifetime of `key` in ms; `undefined` when absent, `Infinity` when it has no expiry. */
  ttl(key: string): Promise<number | undefined>;

  /**
   * Keys (values, counters and sets) that start with `prefix`, at most `limit` (default 1000),
   * sorted by Unicode code point (UTF-8 byte order, not JavaScript's UTF-16 `sort()` order).
   */
  keys(prefix: string, limit?: number): Promise<string[]>;

  /**
   * Sliding-window log for rate limits: atomically record one event for `key` when fewer than
   * `limit` events fall in the last `windowMs`. Never more than `limit` events are recorded in any
   * window of that length (no fixed-window edge burst). `count` is the events in the window after
   * this call; `resetMs` is when the oldest of them leaves it (the wait before a refused caller
   * may retry). Hit keys are their own namespace: `get`/`delete` do not see them.
   */
  hit(key: string, limit: number, windowMs: number): Promise<HitResult>;

  /**
   * Weighted sliding window (token budgets, concurrency leases): atomically record an entry of
   * `amount` units (a non-negative safe integer) for `key` when the units recorded in the last
   * `windowMs` plus `amount` stay within `limit`. Each entry leaves the window `windowMs` after
   * it was made. Spend keys are their own namespace (apart from values, sets and hit logs).
   */
  spend(key: string, amount: number, limit: number, windowMs: number): Promise<SpendResult>;

  /**
   * Replace the amount of an entry made by `spend` with `amount` (a non-negative safe integer),
   * without a limit check: reconciles an estimate with what was really spent, or releases a
   * lease (amount 0). The entry keeps its time. An entry that already left the window is not
   * revived. Returns the window's total after the change.
   */
  settle(key: string, entry: string, amount: number, windowMs: number): Promise<number>;

  /** Release connections, timers and file handles. The store is unusable afterwards. */
  close(): Promise<void>;
}
