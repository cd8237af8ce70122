import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type DatabaseConstructor from 'better-sqlite3';

/** One event waiting for delivery. `seq` orders the queue; `id` is the event id the receiver dedupes by. */
export interface QueuedEvent {
  seq: number;
  id: string;
  line: string;
  createdAt: number;
  attempts: number;
}

export interface NewQueuedEvent {
  id: string;
  line: string;
  createdAt: number;
}

/**
 * The webhook sink's pending events. Rows are claimed with a lease (so two sinks on one file, e.g.
 * the old and the new sink during a config reload, or a CLI command next to the gateway, never send
 * the same row at once), deleted when delivered, and put back with a later lease when a delivery
 * failed (the lease is the retry time, for whoever holds the file).
 */
export interface WebhookQueue {
  /** `'sqlite'` survives a restart; `'memory'` does not. */
  readonly kind: 'sqlite' | 'memory';
  /** Appends; beyond `maxEvents` the oldest rows are deleted. Returns how many were dropped. */
  add(events: readonly NewQueuedEvent[]): number;
  /** Up to `limit` oldest rows whose lease has run out, leased until `leaseUntil`. */
  claim(limit: number, now: number, leaseUntil: number): QueuedEvent[];
  /** Delivered (or given up): deleted. */
  remove(seqs: readonly number[]): void;
  /** A failed attempt: `attempts + 1`, claimable again at `retryAt`. */
  retry(seqs: readonly number[], retryAt: number): void;
  /** Leases given back unused (on close). */
  release(seqs: readonly number[]): void;
  /** Rows in this queue (approximate while another connection writes the same file). */
  size(): number;
  close(): void;
}

export interface WebhookQueueOptions {
  /** SQLite file. */
  path: string;
  /** Rows from different sinks share a file; each sink only sees its own `queue` key. */
  queue: string;
  maxEvents: number;
  /** Bound of the in-memory fallback (default `maxEvents`). */
  maxMemoryEvents?: number;
  /** For tests: how better-sqlite3 is loaded. */
  loadDriver?: () => typeof DatabaseConstructor;
  /** Called once when SQLite is unavailable and the queue falls back to memory. */
  onFallback?: (reason: string) => void;
}

const BUSY_TIMEOUT_MS = 5000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS webhook_queue (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    queue       TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    line        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS webhook_queue_order ON webhook_queue (queue, seq);
`;

/**
 * better-sqlite3 is an optional dependency (a native module), loaded the way the SQLite store
 * loads it: only when a webhook sink is configured.
 */
function loadDatabase(): typeof DatabaseConstructor {
  return createRequire(import.meta.url)('better-sqlite3') as typeof DatabaseConstructor;
}

/**
 * A durable queue in SQLite, or (when better-sqlite3 is missing or the file cannot be opened) a
 * bounded in-memory one; `onFallback` says why.
 */
export function openWebhookQueue(options: WebhookQueueOptions): WebhookQueue {
  let Database: typeof DatabaseConstructor;
  try {
    Database = (options.loadDriver ?? loadDatabase)();
  } catch {
    options.onFallback?.('the better-sqlite3 package is not installed');
    return createMemoryQueue(options.maxMemoryEvents ?? options.maxEvents);
  }
  try {
    return createSqliteQueue(Database, options);
  } catch (err) {
    options.onFallback?.(`${options.path} cannot be opened (${err instanceof Error ? err.message : String(err)})`);
    return createMemoryQueue(options.maxMemoryEvents ?? options.maxEvents);
  }
}

interface Row {
  seq: number;
  id: string;
  line: string;
  created_at: number;
  attempts: number;
}

function createSqliteQueue(Database: typeof DatabaseConstructor, options: WebhookQueueOptions): WebhookQueue {
  if (options.path !== ':memory:') {
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    // Create the file 0600 before SQLite does (it would use the umask): it holds security events.
    closeSync(openSync(options.path, 'a', 0o600));
  }
  const db = new Database(options.path);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a committed row survives a process crash; only a power loss may lose the
    // last transactions. One transaction per flush, not per event.
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
  } catch (err) {
    db.close();
    throw err;
  }
  const q = options.queue;
  const insert = db.prepare('INSERT INTO webhook_queue (queue, id, line, created_at) VALUES (?, ?, ?, ?)');
  const count = db.prepare('SELECT COUNT(*) AS n FROM webhook_queue WHERE queue = ?').pluck();
  const trim = db.prepare('DELETE FROM webhook_queue WHERE seq IN (SELECT seq FROM webhook_queue WHERE queue = ? ORDER BY seq LIMIT ?)');
  const select = db.prepare(
    'SELECT seq, id, line, created_at, attempts FROM webhook_queue WHERE queue = ? AND lease_until <= ? ORDER BY seq LIMIT ?',
  );
  const lease = db.prepare('UPDATE webhook_queue SET lease_until = ? WHERE seq = ?');
  const del = db.prepare('DELETE FROM webhook_queue WHERE seq = ?');
  const fail = db.prepare('UPDATE webhook_queue SET attempts = attempts + 1, lease_until = ? WHERE seq = ?');
  const unlease = db.prepare('UPDATE webhook_queue SET lease_until = 0 WHERE seq = ?');

  let size = count.get(q) as number;

  const addTx = db.transaction((events: readonly NewQueuedEvent[]) => {
    for (const e of events) insert.run(q, e.id, e.line, e.createdAt);
    size += events.length;
    // Counted for real only near the bound: another connection may have delivered rows meanwhile.
    if (size > options.maxEvents) size = count.get(q) as number;
    const over = size - options.maxEvents;
    if (over <= 0) return 0;
    trim.run(q, over);
    size -= over;
    return over;
  });
  // IMMEDIATE: the write lock is taken before the SELECT, so two connections (two processes on
  // one file) can never lease the same rows.
  const claimTx = db.transaction((limit: number, now: number, until: number) => {
    const rows = select.all(q, now, limit) as Row[];
    for (const r of rows) lease.run(until, r.seq);
    return rows;
  });
  const removeTx = db.transaction((seqs: readonly number[]) => {
    for (const s of seqs) size -= del.run(s).changes;
  });
  const retryTx = db.transaction((seqs: readonly number[], at: number) => {
    for (const s of seqs) fail.run(at, s);
  });
  const releaseTx = db.transaction((seqs: readonly number[]) => {
    for (const s of seqs) unlease.run(s);
  });

  return {
    kind: 'sqlite',
    add(events) {
      return events.length === 0 ? 0 : addTx.immediate(events);
    },
    claim(limit, now, leaseUntil) {
      const rows = claimTx.immediate(limit, now, leaseUntil);
      if (rows.length < limit) size = count.get(q) as number; // cheap when the queue is short
      return rows.map((r) => ({ seq: r.seq, id: r.id, line: r.line, createdAt: r.created_at, attempts: r.attempts }));
    },
    remove(seqs) {
      if (seqs.length > 0) removeTx.immediate(seqs);
      if (size < 0) size = 0;
    },
    retry(seqs, retryAt) {
      if (seqs.length > 0) retryTx.immediate(seqs, retryAt);
    },
    release(seqs) {
      if (seqs.length > 0) releaseTx.immediate(seqs);
    },
    size: () => size,
    close() {
      if (db.open) db.close();
    },
  };
}

interface MemRow extends QueuedEvent {
  leaseUntil: number;
}

/** The fallback: same contract, bounded, gone on restart. */
export function createMemoryQueue(maxEvents: number): WebhookQueue {
  let rows: MemRow[] = [];
  let seq = 0;
  const bySeq = (seqs: readonly number[]) => new Set(seqs);
  return {
    kind: 'memory',
    add(events) {
      for (const e of events) rows.push({ seq: ++seq, id: e.id, line: e.line, createdAt: e.createdAt, attempts: 0, leaseUntil: 0 });
      const over = rows.length - maxEvents;
      if (over <= 0) return 0;
      rows = rows.slice(over);
      return over;
    },
    claim(limit, now, leaseUntil) {
      const out: QueuedEvent[] = [];
      for (const r of rows) {
        if (out.length >= limit) break;
        if (r.leaseUntil > now) continue;
        r.leaseUntil = leaseUntil;
        out.push({ seq: r.seq, id: r.id, line: r.line, createdAt: r.createdAt, attempts: r.attempts });
      }
      return out;
    },
    remove(seqs) {
      const s = bySeq(seqs);
      rows = rows.filter((r) => !s.has(r.seq));
    },
    retry(seqs, retryAt) {
      const s = bySeq(seqs);
      for (const r of rows) if (s.has(r.seq)) { r.attempts++; r.leaseUntil = retryAt; }
    },
    release(seqs) {
      const s = bySeq(seqs);
      for (const r of rows) if (s.has(r.seq)) r.leaseUntil = 0;
    },
    size: () => rows.length,
    close() {
      rows = [];
    },
  };
}
