import { randomBytes } from 'node:crypto';
import type { SpendResult, Store } from './store.js';
import {
  DEFAULT_SWEEP_INTERVAL_MS,
  assertIncrementStep,
  expiresAtFor,
  isExpired,
  notACounter,
  assertUnits,
  spendWindow,
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

interface SpendItem {
  id: string;
  at: number;
  amount: number;
}

interface SpendLog {
  /** Oldest first. */
  items: SpendItem[];
  byId: Map<string, SpendItem>;
  /** Sum of `items`' amounts, kept as items come, change and go. */
  sum: number;
  windowMs: number;
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
  // Weighted sliding windows: entries per key, oldest first, with their running total.
  const spends = new Map<string, SpendLog>();
  let closed = false;

  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  const sweepTimer =
    sweepIntervalMs > 0
      ? setInterval(() => {
          const now = Date.now();
          for (const [key, entry] of values) if (isExpired(entry.expiresAt, now)) values.delete(key);
          for (const [key, entry] of sets) if (isExpired(entry.expiresAt, now)) sets.delete(key);
          for (const [key, entry] of hits) if ((entry.times.at(-1) ?? 0) + entry.windowMs <= now) hits.delete(key);
          for (const [key, log] of spends) if ((log.items.at(-1)?.at ?? 0) + log.windowMs <= now) spends.delete(key);
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

  /** The spend log at `key` with entries that left the window dropped; `undefined` when empty. */
  function liveSpends(key: string, window: number, now: number): SpendLog | undefined {
    const log = spends.get(key);
    if (!log) return undefined;
    log.windowMs = window;
    let drop = 0;
    while (drop < log.items.length && (log.items[drop] as SpendItem).at + window <= now) {
      const gone = log.items[drop] as SpendItem;
      log.sum -= gone.amount;
      log.byId.delete(gone.id);
      drop++;
    }
    if (drop > 0) log.items.splice(0, drop);
    if (log.items.length === 0) {
      spends.delete(key);
      return undefined;
    }
    return log;
  }

  return {
    kind: 'memory',

    async spend(key, amount, limit, windowMs): Promise<SpendResult> {
      assertOpen();
      assertUnits('amount', amount);
      assertUnits('limit', limit);
      const window = spendWindow(windowMs);
      const now = Date.now();
      const log = liveSpends(key, window, now);
      const total = log?.sum ?? 0;
      if (total + amount <= limit) {
        const item = { id: `${now}:${randomBytes(9).toString('base64url')}`, at: now, amount };
        const target = log ?? { items: [], byId: new Map(), sum: 0, windowMs: window };
        // Keep oldest-first order even if the wall clock stepped back.
        let i = target.items.length;
        while (i > 0 && (target.items[i - 1] as SpendItem).at > now) i--;
        target.items.splice(i, 0, item);
        target.byId.set(item.id, item);
        target.sum += amount;
        spends.set(key, target);
        return { allowed: true, total: target.sum, resetMs: 0, entry: item.id };
      }
      return { allowed: false, total, resetMs: spendResetMs(log?.items ?? [], total, amount, limit, window, now), entry: '' };
    },

    async settle(key, entry, amount, windowMs) {
      assertOpen();
      assertUnits('amount', amount);
      const window = spendWindow(windowMs);
      const log = liveSpends(key, window, Date.now());
      if (!log) return 0;
      const item = log.byId.get(entry);
      if (item) {
        log.sum += amount - item.amount;
        item.amount = amount;
      }
      return log.sum;
    },

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
      hits.clear();
      spends.clear();
    },
  };
}


/**
 * For a refused spend: ms until enough of the oldest entries leave for `amount` to fit, or the
 * whole window when `amount` alone exceeds `limit`.
 */
function spendResetMs(items: readonly SpendItem[], total: number, amount: number, limit: number, window: number, now: number): number {
  if (amount > limit) return window;
  let left = total;
  for (const item of items) {
    left -= item.amount;
    if (left + amount <= limit) return Math.max(0, item.at + window - now);
  }
  return window; // unreachable: with every entry gone, amount <= limit fits
}
