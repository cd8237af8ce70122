import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type DatabaseConstructor from 'better-sqlite3';

// How long opening the file waits for another connection's lock (once, at start-up). Serving
// runs with busy_timeout 0 and waits without blocking instead (sqlite-busy.ts).
const OPEN_BUSY_TIMEOUT_MS = 5000;

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

/** Opens (creating if needed) the store's database file with its pragmas and schema in place. */
export function openSqliteDatabase(path: string): DatabaseConstructor.Database {
  if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });

  const db = new (loadDatabase())(path);
  // busy_timeout first: switching to WAL and creating the schema already need locks that
  // another process opening the same file at the same moment may hold.
  db.pragma(`busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL survives process crashes; only a power loss can drop the last
  // commits, which is acceptable for counters and bans and much faster than FULL.
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  // From here on a busy lock is reported at once and retried by the caller between timers:
  // SQLite's own busy wait would sleep on the event loop, stalling every request.
  db.pragma('busy_timeout = 0');
  return db;
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
