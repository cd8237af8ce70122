import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { HitResult, SpendResult } from './store.js';

export interface SlidingWindows {
  hitTx: Database.Transaction<(key: string, limit: number, windowMs: number, now: number) => HitResult>;
  spendTx: Database.Transaction<
    (key: string, amount: number, limit: number, window: number, now: number) => SpendResult
  >;
  settleTx: Database.Transaction<(key: string, entry: string, amount: number, window: number, now: number) => number>;
  sweepHits: Database.Statement<{ now: number }>;
  sweepSpend: Database.Statement<{ now: number }>;
}

/** The transactions behind `hit` and `spend`/`settle`, and the sweeps of their tables. */
export function prepareSlidingWindows(db: Database.Database): SlidingWindows {
  // A sliding-window log is a JSON array of timestamps in its own table, read-modified-written in
  // one IMMEDIATE transaction so processes sharing the file never both take the last slot.
  const getHits = db.prepare<{ key: string }, string>('SELECT times FROM store_hits WHERE key = @key').pluck();
  const putHits = db.prepare<{ key: string; times: string; expiresAt: number }>(
    'INSERT INTO store_hits (key, times, expires_at) VALUES (@key, @times, CAST(@expiresAt AS INTEGER)) ON CONFLICT (key) DO UPDATE SET times = excluded.times, expires_at = excluded.expires_at',
  );
  const sweepHits = db.prepare<{ now: number }>('DELETE FROM store_hits WHERE expires_at <= @now');
  const hitTx = db.transaction((key: string, limit: number, windowMs: number, now: number): HitResult => {
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

  return { hitTx, spendTx, settleTx, sweepHits, sweepSpend };
}
