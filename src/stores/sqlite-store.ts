import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type DatabaseConstructor from 'better-sqlite3';
import type { SpendResult, Store } from './store.js';
import {
  DEFAULT_SWEEP_INTERVAL_MS,
  assertIncrementStep,
  expiresAtFor,
  notACounter,
  assertUnits,
  spendWindow,
} from './expiry.js';

export interface SqliteStoreOptions {
  /** Database file, or `':memory:'` for a private in-memory database. */
  path: string;
  /** How often expired rows are deleted; `0` turns the sweep off (reads still hide them). */
  sweepIntervalMs?: number;
}

// How long a writer waits for another connection's write lock before failing with SQLITE_BUSY.
const BUSY_TIMEOUT_MS = 5000;

// Values and counters share one table: a counter is a value holding a decimal integer,
// which is what `get` returns for it. Every set member carries its set's expiry so reads
// and the sweep can filter members with one WHERE; all members of a key share one expiry.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS store_values (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    expires_at INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS store_values_expiry
    ON store_values (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE IF NOT EXISTS store_set_members (
    key        TEXT NOT NULL,
    member     TEXT NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (key, member)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS store_set_members_expiry
    ON store_set_members (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE IF NOT EXISTS store_hits (
    key        TEXT PRIMARY KEY,
    times      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE IF NOT EXISTS store_spend (
    key        TEXT NOT NULL,
    entry      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    amount     INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key, entry)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS store_spend_window ON store_spend (key, at, amount);
  CREATE INDEX IF NOT EXISTS store_spend_expiry ON store_spend (expires_at);
`;

const LIVE = '(expires_at IS NULL OR expires_at > @now)';
const EXPIRED = '(expires_at IS NOT NULL AND expires_at <= @now)';
// Inside an upsert a bare `expires_at` is ambiguous with `excluded.expires_at`.
const EXISTING_EXPIRED =
  '(store_values.expires_at IS NOT NULL AND store_values.expires_at <= @now)';

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

interface KeyParams {
  key: string;
}
interface KeyNowParams {
  key: string;
  now: number;
}

/**
 * A store in a SQLite file, shareable by several processes on one host. Single statements
 * are atomic on their own; multi-statement operations run in IMMEDIATE transactions, which
 * take the write lock up front so a read-then-write cannot be overtaken by another process.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const { path } = options;
  if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });

  const db = new (loadDatabase())(path);
  // busy_timeout first: switching to WAL and creating the schema already need locks that
  // another process opening the same file at the same moment may hold.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL survives process crashes; only a power loss can drop the last
  // commits, which is acceptable for counters and bans and much faster than FULL.
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);

  // better-sqlite3 binds every JS number as REAL, so integers are CAST explicitly; without
  // that a counter would be stored as '6.0'.
  const statements = {
    get: db
      .prepare<KeyNowParams, string>(`SELECT value FROM store_values WHERE key = @key AND ${LIVE}`)
      .pluck(),
    set: db.prepare<{ key: string; value: string; expiresAt: number | null }>(
      `INSERT INTO store_values (key, value, expires_at)
       VALUES (@key, @value, CAST(@expiresAt AS INTEGER))
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    // The DO UPDATE's WHERE makes an expired row count as absent; `changes` tells us
    // whether anything was written.
    setIfAbsent: db.prepare<{ key: string; value: string; expiresAt: number | null; now: number }>(
      `INSERT INTO store_values (key, value, expires_at)
       VALUES (@key, @value, CAST(@expiresAt AS INTEGER))
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
       WHERE ${EXISTING_EXPIRED}`,
    ),
    // One statement, so it is atomic across connections and processes. An expired row
    // restarts from `by` with the new expiry; a live one keeps its expiry. A live row that
    // does not round-trip as an integer is a plain value: the WHERE skips it, RETURNING
    // yields nothing, and the caller rejects.
    increment: db
      .prepare<{ key: string; by: number; expiresAt: number | null; now: number }, number>(
        `INSERT INTO store_values (key, value, expires_at)
         VALUES (@key, CAST(@by AS INTEGER), CAST(@expiresAt AS INTEGER))
         ON CONFLICT (key) DO UPDATE SET
           value = CASE WHEN ${EXISTING_EXPIRED} THEN excluded.value
                        ELSE CAST(store_values.value AS INTEGER) + CAST(@by AS INTEGER) END,
           expires_at = CASE WHEN ${EXISTING_EXPIRED} THEN excluded.expires_at
                             ELSE store_values.expires_at END
         WHERE ${EXISTING_EXPIRED}
            OR CAST(CAST(store_values.value AS INTEGER) AS TEXT) = store_values.value
         RETURNING CAST(value AS INTEGER)`,
      )
      .pluck(),
    deleteLiveValue: db.prepare<KeyNowParams>(
      `DELETE FROM store_values WHERE key = @key AND ${LIVE}`,
    ),
    deleteAnyValue: db.prepare<KeyParams>('DELETE FROM store_values WHERE key = @key'),
    deleteLiveSet: db.prepare<KeyNowParams>(
      `DELETE FROM store_set_members WHERE key = @key AND ${LIVE}`,
    ),
    deleteAnySet: db.prepare<KeyParams>('DELETE FROM store_set_members WHERE key = @key'),
    purgeExpiredSet: db.prepare<KeyNowParams>(
      `DELETE FROM store_set_members WHERE key = @key AND ${EXPIRED}`,
    ),
    setExpiry: db
      .prepare<KeyParams, number | null>(
        'SELECT expires_at FROM store_set_members WHERE key = @key LIMIT 1',
      )
      .pluck(),
    addMember: db.prepare<{ key: string; member: string; expiresAt: number | null }>(
      `INSERT INTO store_set_members (key, member, expires_at)
       VALUES (@key, @member, CAST(@expiresAt AS INTEGER))
       ON CONFLICT (key, member) DO NOTHING`,
    ),
    refreshSetExpiry: db.prepare<{ key: string; expiresAt: number }>(
      'UPDATE store_set_members SET expires_at = CAST(@expiresAt AS INTEGER) WHERE key = @key',
    ),
    removeMember: db.prepare<{ key: string; member: string; now: number }>(
      `DELETE FROM store_set_members WHERE key = @key AND member = @member AND ${LIVE}`,
    ),
    members: db
      .prepare<KeyNowParams, string>(
        `SELECT member FROM store_set_members WHERE key = @key AND ${LIVE}`,
      )
      .pluck(),
    // `.get` returns undefined for no row and null for a row without expiry; both matter.
    valueTtl: db
      .prepare<KeyNowParams, number | null>(
        `SELECT expires_at FROM store_values WHERE key = @key AND ${LIVE}`,
      )
      .pluck(),
    setTtl: db
      .prepare<KeyNowParams, number | null>(
        `SELECT expires_at FROM store_set_members WHERE key = @key AND ${LIVE} LIMIT 1`,
      )
      .pluck(),
    keysInRange: db
      .prepare<{ prefix: string; upper: string; now: number; limit: number }, string>(
        `SELECT key FROM store_values WHERE key >= @prefix AND key < @upper AND ${LIVE}
         UNION
         SELECT key FROM store_set_members WHERE key >= @prefix AND key < @upper AND ${LIVE}
         ORDER BY key LIMIT @limit`,
      )
      .pluck(),
    keysFrom: db
      .prepare<{ prefix: string; now: number; limit: number }, string>(
        `SELECT key FROM store_values WHERE key >= @prefix AND ${LIVE}
         UNION
         SELECT key FROM store_set_members WHERE key >= @prefix AND ${LIVE}
         ORDER BY key LIMIT @limit`,
      )
      .pluck(),
    sweepValues: db.prepare<{ now: number }>(`DELETE FROM store_values WHERE ${EXPIRED}`),
    sweepSets: db.prepare<{ now: number }>(`DELETE FROM store_set_members WHERE ${EXPIRED}`),
  };

  const deleteKey = db.transaction((key: string, now: number): boolean => {
    const live =
      statements.deleteLiveValue.run({ key, now }).changes +
      statements.deleteLiveSet.run({ key, now }).changes;
    // Expired leftovers go too, so nothing lingers under a key the caller deleted.
    statements.deleteAnyValue.run({ key });
    statements.deleteAnySet.run({ key });
    return live > 0;
  });

  const addMembers = db.transaction(
    (key: string, members: readonly string[], expiresAt: number | null, now: number): number => {
      // With expired members gone, whatever remains is live and shares one expiry, which
      // new members inherit unless the caller sets a fresh one.
      statements.purgeExpiredSet.run({ key, now });
      const memberExpiry = expiresAt ?? statements.setExpiry.get({ key }) ?? null;
      let added = 0;
      for (const member of members) {
        added += statements.addMember.run({ key, member, expiresAt: memberExpiry }).changes;
      }
      if (expiresAt !== null) statements.refreshSetExpiry.run({ key, expiresAt });
      return added;
    },
  );

  const removeMembers = db.transaction(
    (key: string, members: readonly string[], now: number): number => {
      let removed = 0;
      for (const member of members) {
        removed += statements.removeMember.run({ key, member, now }).changes;
      }
      return removed;
    },
  );

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

  // A sliding-window log is a JSON array of timestamps in its own table, read-modified-written in
  // one IMMEDIATE transaction so processes sharing the file never both take the last slot.
  const getHits = db.prepare<{ key: string }, string>('SELECT times FROM store_hits WHERE key = @key').pluck();
  const putHits = db.prepare<{ key: string; times: string; expiresAt: number }>(
    'INSERT INTO store_hits (key, times, expires_at) VALUES (@key, @times, CAST(@expiresAt AS INTEGER)) ON CONFLICT (key) DO UPDATE SET times = excluded.times, expires_at = excluded.expires_at',
  );
  const sweepHits = db.prepare<{ now: number }>('DELETE FROM store_hits WHERE expires_at <= @now');
  const hitTx = db.transaction((key: string, limit: number, windowMs: number, now: number) => {
    const raw = getHits.get({ key });
    const times = (raw ? (JSON.parse(raw) as number[]) : []).filter((t) => t > now - windowMs);
    const allowed = times.length < limit;
    if (allowed) times.push(now);
    putHits.run({ key, times: JSON.stringify(times), expiresAt: Math.ceil((times.at(-1) ?? now) + windowMs) });
    const oldest = times[0];
    return { allowed, count: times.length, resetMs: oldest === undefined ? 0 : Math.max(0, oldest + windowMs - now) };
  });

  // A weighted sliding window is one row per entry; `at` + the caller's window decides when it
  // leaves, and `expires_at` (at + window when written) lets the sweep drop rows nobody reads.
  // Each call is one IMMEDIATE transaction, like `hit`.
  const trimSpend = db.prepare<{ key: string; from: number }>('DELETE FROM store_spend WHERE key = @key AND at <= @from');
  const spendTotal = db
    .prepare<{ key: string }, number>('SELECT COALESCE(SUM(amount), 0) FROM store_spend WHERE key = @key')
    .pluck();
  const spendOldestFirst = db.prepare<{ key: string }, { at: number; amount: number }>(
    'SELECT at, amount FROM store_spend WHERE key = @key ORDER BY at',
  );
  const addSpend = db.prepare<{ key: string; entry: string; at: number; amount: number; expiresAt: number }>(
    'INSERT INTO store_spend (key, entry, at, amount, expires_at) VALUES (@key, @entry, CAST(@at AS INTEGER), CAST(@amount AS INTEGER), CAST(@expiresAt AS INTEGER))',
  );
  const settleSpend = db.prepare<{ key: string; entry: string; amount: number; window: number }>(
    'UPDATE store_spend SET amount = CAST(@amount AS INTEGER), expires_at = at + CAST(@window AS INTEGER) WHERE key = @key AND entry = @entry',
  );
  const sweepSpend = db.prepare<{ now: number }>('DELETE FROM store_spend WHERE expires_at <= @now');
  const spendTx = db.transaction((key: string, amount: number, limit: number, window: number, now: number): SpendResult => {
    trimSpend.run({ key, from: now - window });
    const total = spendTotal.get({ key }) ?? 0;
    if (total + amount <= limit) {
      const entry = `${now}:${randomBytes(9).toString('base64url')}`;
      addSpend.run({ key, entry, at: now, amount, expiresAt: now + window });
      return { allowed: true, total: total + amount, resetMs: 0, entry };
    }
    let resetMs = window;
    if (amount <= limit) {
      let left = total;
      for (const row of spendOldestFirst.iterate({ key })) {
        left -= row.amount;
        if (left + amount <= limit) {
          resetMs = Math.max(0, row.at + window - now);
          break;
        }
      }
    }
    return { allowed: false, total, resetMs, entry: '' };
  });
  const settleTx = db.transaction((key: string, entry: string, amount: number, window: number, now: number): number => {
    trimSpend.run({ key, from: now - window });
    settleSpend.run({ key, entry, amount, window });
    return spendTotal.get({ key }) ?? 0;
  });

  return {
    kind: 'sqlite',

    async spend(key, amount, limit, windowMs) {
      assertUnits('amount', amount);
      assertUnits('limit', limit);
      return spendTx.immediate(key, amount, limit, spendWindow(windowMs), Date.now());
    },

    async settle(key, entry, amount, windowMs) {
      assertUnits('amount', amount);
      return settleTx.immediate(key, entry, amount, spendWindow(windowMs), Date.now());
    },

    async hit(key, limit, windowMs) {
      return hitTx.immediate(key, limit, windowMs, Date.now());
    },

    async get(key) {
      return statements.get.get({ key, now: Date.now() });
    },

    async set(key, value, ttlMs) {
      statements.set.run({ key, value, expiresAt: expiresAtFor(ttlMs, Date.now()) });
    },

    async setIfAbsent(key, value, ttlMs) {
      const now = Date.now();
      const expiresAt = expiresAtFor(ttlMs, now);
      return statements.setIfAbsent.run({ key, value, expiresAt, now }).changes > 0;
    },

    async delete(key) {
      return deleteKey.immediate(key, Date.now());
    },

    async increment(key, by = 1, ttlMs) {
      assertIncrementStep(by);
      const now = Date.now();
      const expiresAt = expiresAtFor(ttlMs, now);
      const next = statements.increment.get({ key, by, expiresAt, now });
      if (next === undefined) throw notACounter(key);
      return next;
    },

    async setAdd(key, members, ttlMs) {
      const now = Date.now();
      return addMembers.immediate(key, members, expiresAtFor(ttlMs, now), now);
    },

    async setRemove(key, members) {
      if (members.length === 0) return 0;
      return removeMembers.immediate(key, members, Date.now());
    },

    async setMembers(key) {
      return statements.members.all({ key, now: Date.now() });
    },

    async ttl(key) {
      const now = Date.now();
      // Not `??`: a null expiry (no TTL) is a hit and must not fall through to the set table.
      let expiresAt = statements.valueTtl.get({ key, now });
      if (expiresAt === undefined) expiresAt = statements.setTtl.get({ key, now });
      if (expiresAt === undefined) return undefined;
      return expiresAt === null ? Infinity : expiresAt - now;
    },

    async keys(prefix, limit = 1000) {
      const now = Date.now();
      const rows = Math.max(0, Math.floor(limit));
      const upper = prefixUpperBound(prefix);
      return upper === undefined
        ? statements.keysFrom.all({ prefix, now, limit: rows })
        : statements.keysInRange.all({ prefix, upper, now, limit: rows });
    },

    async close() {
      if (sweepTimer) clearInterval(sweepTimer);
      if (db.open) db.close();
    },
  };
}

/**
 * better-sqlite3 is an optional dependency (a native module built at install time): loaded only
 * when `state.store: sqlite` is chosen, so a machine without a compiler still runs the default
 * memory store.
 */
function loadDatabase(): typeof DatabaseConstructor {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof DatabaseConstructor;
  } catch {
    throw new Error('state.store "sqlite" needs the better-sqlite3 package, which is not installed (it builds a native module: python3, make and a C++ compiler)');
  }
}

