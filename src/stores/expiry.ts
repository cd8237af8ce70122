/** How often each store deletes expired entries that nobody has read since they expired. */
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/**
 * The absolute expiry (epoch ms) for a TTL, or `null` for none. Rounded up to whole
 * milliseconds so SQLite can keep it in an INTEGER column and both stores agree exactly.
 */
export function expiresAtFor(ttlMs: number | undefined, now: number): number | null {
  if (ttlMs === undefined) return null;
  // A zero, negative or infinite TTL is almost always a unit or config bug; failing loudly
  // beats silently storing something that is already gone or never goes.
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`ttlMs must be a positive finite number of milliseconds, got ${ttlMs}`);
  }
  return now + Math.ceil(ttlMs);
}

/** An entry is gone from the moment its expiry is reached, not one millisecond later. */
export function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}

/** Counters are exact integers; a fractional step would silently drift. */
export function assertIncrementStep(by: number): void {
  if (!Number.isSafeInteger(by)) {
    throw new RangeError(`increment step must be a safe integer, got ${by}`);
  }
}

/** Rejection for `increment` on a key that holds a plain value rather than a counter. */
export function notACounter(key: string): TypeError {
  return new TypeError(`key "${key}" holds a value that is not an integer counter`);
}

/** Spend amounts and limits are whole units: a fraction or a negative would corrupt the total. */
export function assertUnits(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${n}`);
  }
}

/** A spend window in whole milliseconds (rounded up, as every store does). */
export function spendWindow(windowMs: number): number {
  if (!Number.isFinite(windowMs) || windowMs <= 0) {
    throw new RangeError(`windowMs must be a positive finite number of milliseconds, got ${windowMs}`);
  }
  return Math.ceil(windowMs);
}
