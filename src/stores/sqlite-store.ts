import type { Store } from './store.js';
import {
  DEFAULT_SWEEP_INTERVAL_MS,
  assertIncrementStep,
  expiresAtFor,
  notACounter,
  assertUnits,
  spendWindow,
} from './expiry.js';
import { DEFAULT_BUSY_TIMEOUT_MS, retryWhileBusy } from './sqlite-busy.js';
import { openSqliteDatabase } from './sqlite-database.js';
import { prepareSlidingWindows } from './sqlite-sliding-windows.js';
import { prepareStatements, prepareTransactions } from './sqlite-statements.js';

export interface SqliteStoreOptions {
  /** Database file, or `':memory:'` for a private in-memory database. */
  path: string;
  /** How often expired rows are deleted; `0` turns the sweep off (reads still hide them). */
  sweepIntervalMs?: number;
  /** How long a call waits for another connection's lock, without blocking, before failing as unavailable. */
  busyTimeoutMs?: number;
}

/**
 * The smallest string greater than every string that starts with `prefix`, in code-point
 * order (which is SQLite's BINARY collation on UTF-8). It turns a prefix match into an
 * index range scan instead of a LIKE, whose `%`/`_` wildcards and case folding would be
 * wrong for arbitrary keys. `undefined` when no bound exists (empty or all-U+10FFFF prefix).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = Array.from(prefix, (ch) => ch.codePointAt(0) ?? 0);
  while (codePoints.length > 0) {
    const last = codePoints.pop() ?? 0;
    if (last < 0x10ffff) {
      // Surrogate code points cannot appear in UTF-8 text, so step over them.
      codePoints.push(last + 1 === 0xd800 ? 0xe000 : last + 1);
      return String.fromCodePoint(...codePoints);
    }
  }
  return undefined;
}

/**
 * A store in a SQLite file, shareable by several processes on one host. Single statements
 * are atomic on their own; multi-statement operations run in IMMEDIATE transactions, which
 * take the write lock up front so a read-then-write cannot be overtaken by another process.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = openSqliteDatabase(options.path);
  const statements = prepareStatements(db);
  const { deleteKey, addMembers, removeMembers } = prepareTransactions(db, statements);
  const { hitTx, spendTx, settleTx, sweepHits, sweepSpend } = prepareSlidingWindows(db);

  const busyMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const locked = <T>(run: () => T): Promise<T> => retryWhileBusy(busyMs, run);

  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  const sweepTimer =
    sweepIntervalMs > 0
      ? setInterval(() => {
          try {
            const now = Date.now();
            statements.sweepValues.run({ now });
            statements.sweepSets.run({ now });
            sweepHits.run({ now });
            sweepSpend.run({ now });
          } catch {
            // Reads already hide expired rows; a sweep that lost a lock race (SQLITE_BUSY)
            // just tries again next interval rather than crashing the process from a timer.
          }
        }, sweepIntervalMs)
      : undefined;
  // The sweep is housekeeping; it must never be what keeps the process alive.
  sweepTimer?.unref();

  return {
    kind: 'sqlite',

    async spend(key, amount, limit, windowMs) {
      assertUnits('amount', amount);
      assertUnits('limit', limit);
      const window = spendWindow(windowMs);
      return locked(() => spendTx.immediate(key, amount, limit, window, Date.now()));
    },

    async settle(key, entry, amount, windowMs) {
      assertUnits('amount', amount);
      const window = spendWindow(windowMs);
      return locked(() => settleTx.immediate(key, entry, amount, window, Date.now()));
    },

    hit: (key, limit, windowMs) => locked(() => hitTx.immediate(key, limit, windowMs, Date.now())),

    get: (key) => locked(() => statements.get.get({ key, now: Date.now() })),

    async set(key, value, ttlMs) {
      return locked(() => void statements.set.run({ key, value, expiresAt: expiresAtFor(ttlMs, Date.now()) }));
    },

    async setIfAbsent(key, value, ttlMs) {
      return locked(() => {
        const now = Date.now();
        return statements.setIfAbsent.run({ key, value, expiresAt: expiresAtFor(ttlMs, now), now }).changes > 0;
      });
    },

    delete: (key) => locked(() => deleteKey.immediate(key, Date.now())),

    async increment(key, by = 1, ttlMs) {
      assertIncrementStep(by);
      const next = await locked(() => {
        const now = Date.now();
        return statements.increment.get({ key, by, expiresAt: expiresAtFor(ttlMs, now), now });
      });
      if (next === undefined) throw notACounter(key);
      return next;
    },

    async setAdd(key, members, ttlMs) {
      return locked(() => {
        const now = Date.now();
        return addMembers.immediate(key, members, expiresAtFor(ttlMs, now), now);
      });
    },

    async setRemove(key, members) {
      if (members.length === 0) return 0;
      return locked(() => removeMembers.immediate(key, members, Date.now()));
    },

    setMembers: (key) => locked(() => statements.members.all({ key, now: Date.now() })),

    ttl: (key) =>
      locked(() => {
        const now = Date.now();
        // Not `??`: a null expiry (no TTL) is a hit and must not fall through to the set table.
        let expiresAt = statements.valueTtl.get({ key, now });
        if (expiresAt === undefined) expiresAt = statements.setTtl.get({ key, now });
        if (expiresAt === undefined) return undefined;
        return expiresAt === null ? Infinity : expiresAt - now;
      }),

    keys: (prefix, limit = 1000) =>
      locked(() => {
        const now = Date.now();
        const rows = Math.max(0, Math.floor(limit));
        const upper = prefixUpperBound(prefix);
        return upper === undefined
          ? statements.keysFrom.all({ prefix, now, limit: rows })
          : statements.keysInRange.all({ prefix, upper, now, limit: rows });
      }),

    async close() {
      if (sweepTimer) clearInterval(sweepTimer);
      if (db.open) db.close();
    },
  };
}
