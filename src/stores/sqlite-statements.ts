import type Database from 'better-sqlite3';

const LIVE = '(expires_at IS NULL OR expires_at > @now)';
const EXPIRED = '(expires_at IS NOT NULL AND expires_at <= @now)';
// Inside an upsert a bare `expires_at` is ambiguous with `excluded.expires_at`.
const EXISTING_EXPIRED =
  '(store_values.expires_at IS NOT NULL AND store_values.expires_at <= @now)';

interface KeyParams {
  key: string;
}
interface KeyNowParams {
  key: string;
  now: number;
}
interface ValueParams {
  key: string;
  value: string;
  expiresAt: number | null;
}
interface NowParams {
  now: number;
}
type Statement<Params extends object, Result = unknown> = Database.Statement<Params, Result>;

export interface Statements {
  get: Statement<KeyNowParams, string>;
  set: Statement<ValueParams>;
  setIfAbsent: Statement<ValueParams & NowParams>;
  increment: Statement<{ key: string; by: number; expiresAt: number | null; now: number }, number>;
  deleteLiveValue: Statement<KeyNowParams>;
  deleteAnyValue: Statement<KeyParams>;
  deleteLiveSet: Statement<KeyNowParams>;
  deleteAnySet: Statement<KeyParams>;
  purgeExpiredSet: Statement<KeyNowParams>;
  setExpiry: Statement<KeyParams, number | null>;
  addMember: Statement<{ key: string; member: string; expiresAt: number | null }>;
  refreshSetExpiry: Statement<{ key: string; expiresAt: number }>;
  removeMember: Statement<{ key: string; member: string; now: number }>;
  members: Statement<KeyNowParams, string>;
  valueTtl: Statement<KeyNowParams, number | null>;
  setTtl: Statement<KeyNowParams, number | null>;
  keysInRange: Statement<{ prefix: string; upper: string; now: number; limit: number }, string>;
  keysFrom: Statement<{ prefix: string; now: number; limit: number }, string>;
  sweepValues: Statement<NowParams>;
  sweepSets: Statement<NowParams>;
}

export interface Transactions {
  deleteKey: Database.Transaction<(key: string, now: number) => boolean>;
  addMembers: Database.Transaction<
    (key: string, members: readonly string[], expiresAt: number | null, now: number) => number
  >;
  removeMembers: Database.Transaction<(key: string, members: readonly string[], now: number) => number>;
}

/** The statements behind values, counters and sets (`store_values`, `store_set_members`). */
export function prepareStatements(db: Database.Database): Statements {
  // better-sqlite3 binds every JS number as REAL, so integers are CAST explicitly; without
  // that a counter would be stored as '6.0'.
  return {
    get: db
      .prepare<KeyNowParams, string>(`SELECT value FROM store_values WHERE key = @key AND ${LIVE}`)
      .pluck(),
    set: db.prepare<ValueParams>(
      `INSERT INTO store_values (key, value, expires_at)
       VALUES (@key, @value, CAST(@expiresAt AS INTEGER))
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    // The DO UPDATE's WHERE makes an expired row count as absent; `changes` tells us
    // whether anything was written.
    setIfAbsent: db.prepare<ValueParams & NowParams>(
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
    sweepValues: db.prepare<NowParams>(`DELETE FROM store_values WHERE ${EXPIRED}`),
    sweepSets: db.prepare<NowParams>(`DELETE FROM store_set_members WHERE ${EXPIRED}`),
  };
}

/** Multi-statement operations on values and sets; run them `.immediate` so no other process overtakes a read-then-write. */
export function prepareTransactions(db: Database.Database, statements: Statements): Transactions {
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

  return { deleteKey, addMembers, removeMembers };
}
