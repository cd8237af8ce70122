import type { Store } from './store.js';
import {
  DEFAULT_SWEEP_INTERVAL_MS,
  assertIncrementStep,
  expiresAtFor,
  isExpired,
  notACounter,
} from './expiry.js';

export interface MemoryStoreOptions {
  /** How often expired entries are purged; `0` turns the sweep off (reads still hide them). */
  sweepIntervalMs?: number;
}

interface ValueEntry {
  // Counters are kept as their decimal string so `get` on a counter reads the same as in SQLite.
  value: string;
  expiresAt: number | null;
}

interface SetEntry {
  members: Set<string>;
  expiresAt: number | null;
}

/**
 * Keys sort by Unicode code point (the UTF-8 byte order SQLite uses), not by UTF-16 code
 * unit as `Array.prototype.sort` would, so every implementation lists keys identically.
 */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * A single-process store. Each method runs synchronously inside its promise, so every
 * operation is atomic with respect to other callers of the same store.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const values = new Map<string, ValueEntry>();
  const sets = new Map<string, SetEntry>();
  // Sliding-window logs: timestamps per key, oldest first. Pruned on every hit and by the sweep.
  const hits = new Map<string, { times: number[]; windowMs: number }>();
  let closed = false;

  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  const sweepTimer =
    sweepIntervalMs > 0
      ? setInterval(() => {
          const now = Date.now();
          for (const [key, entry] of values) if (isExpired(entry.expiresAt, now)) values.delete(key);
          for (const [key, entry] of sets) if (isExpired(entry.expiresAt, now)) sets.delete(key);
          for (const [key, entry] of hits) if ((entry.times.at(-1) ?? 0) + entry.windowMs <= now) hits.delete(key);
        }, sweepIntervalMs)
      : undefined;
  // The sweep is housekeeping; it must never be what keeps the process alive.
  sweepTimer?.unref();

  function assertOpen(): void {
    if (closed) throw new Error('memory store is closed');
  }

  // Lazy expiry: whoever reads an expired entry removes it, so the sweep only has to catch
  // entries nobody reads again.
  function liveValue(key: string, now: number): ValueEntry | undefined {
    const entry = values.get(key);
    if (entry && isExpired(entry.expiresAt, now)) {
      values.delete(key);
      return undefined;
    }
    return entry;
  }

  function liveSet(key: string, now: number): SetEntry | undefined {
    const entry = sets.get(key);
    if (entry && isExpired(entry.expiresAt, now)) {
      sets.delete(key);
      return undefined;
    }
    return entry;
  }

  return {
    kind: 'memory',

    async hit(key, limit, windowMs) {
      assertOpen();
      const now = Date.now();
      const entry = hits.get(key) ?? { times: [], windowMs };
      entry.windowMs = windowMs;
      const from = now - windowMs;
      let drop = 0;
      while (drop < entry.times.length && (entry.times[drop] as number) <= from) drop++;
      if (drop > 0) entry.times.splice(0, drop);
      const allowed = entry.times.length < limit;
      if (allowed) entry.times.push(now);
      if (entry.times.length === 0) hits.delete(key);
      else hits.set(key, entry);
      const oldest = entry.times[0];
      return { allowed, count: entry.times.length, resetMs: oldest === undefined ? 0 : Math.max(0, oldest + windowMs - now) };
    },

    async get(key) {
      assertOpen();
      return liveValue(key, Date.now())?.value;
    },

    async set(key, value, ttlMs) {
      assertOpen();
      const now = Date.now();
      values.set(key, { value, expiresAt: expiresAtFor(ttlMs, now) });
    },

    async setIfAbsent(key, value, ttlMs) {
      assertOpen();
      const now = Date.now();
      const expiresAt = expiresAtFor(ttlMs, now);
      if (liveValue(key, now)) return false;
      values.set(key, { value, expiresAt });
      return true;
    },

    async delete(key) {
      assertOpen();
      const now = Date.now();
      const hadValue = liveValue(key, now) !== undefined;
      const hadSet = liveSet(key, now) !== undefined;
      values.delete(key);
      sets.delete(key);
      return hadValue || hadSet;
    },

    async increment(key, by = 1, ttlMs) {
      assertOpen();
      assertIncrementStep(by);
      const now = Date.now();
      const expiresAt = expiresAtFor(ttlMs, now);
      const entry = liveValue(key, now);
      if (!entry) {
        values.set(key, { value: String(by), expiresAt });
        return by;
      }
      const current = Number(entry.value);
      // Round-tripping rejects '', ' 1', '1e3', '0x10' and friends that Number() would accept.
      if (!Number.isSafeInteger(current) || String(current) !== entry.value) throw notACounter(key);
      const next = current + by;
      entry.value = String(next);
      return next;
    },

    async setAdd(key, members, ttlMs) {
      assertOpen();
      const now = Date.now();
      const expiresAt = expiresAtFor(ttlMs, now);
      let entry = liveSet(key, now);
      if (!entry) {
        // An empty set does not exist, so adding nothing creates nothing.
        if (members.length === 0) return 0;
        entry = { members: new Set(), expiresAt: null };
        sets.set(key, entry);
      }
      let added = 0;
      for (const member of members) {
        if (!entry.members.has(member)) {
          entry.members.add(member);
          added++;
        }
      }
      if (expiresAt !== null) entry.expiresAt = expiresAt;
      return added;
    },

    async setRemove(key, members) {
      assertOpen();
      const entry = liveSet(key, Date.now());
      if (!entry) return 0;
      let removed = 0;
      for (const member of members) if (entry.members.delete(member)) removed++;
      if (entry.members.size === 0) sets.delete(key);
      return removed;
    },

    async setMembers(key) {
      assertOpen();
      const entry = liveSet(key, Date.now());
      return entry ? [...entry.members] : [];
    },

    async ttl(key) {
      assertOpen();
      const now = Date.now();
      const entry = liveValue(key, now) ?? liveSet(key, now);
      if (!entry) return undefined;
      return entry.expiresAt === null ? Infinity : entry.expiresAt - now;
    },

    async keys(prefix, limit = 1000) {
      assertOpen();
      const now = Date.now();
      const found = new Set<string>();
      for (const [key, entry] of values) {
        if (key.startsWith(prefix) && !isExpired(entry.expiresAt, now)) found.add(key);
      }
      for (const [key, entry] of sets) {
        if (key.startsWith(prefix) && !isExpired(entry.expiresAt, now)) found.add(key);
      }
      return [...found].sort(compareKeys).slice(0, Math.max(0, Math.floor(limit)));
    },

    async close() {
      if (closed) return;
      closed = true;
      if (sweepTimer) clearInterval(sweepTimer);
      values.clear();
      sets.clear();
    },
  };
}
