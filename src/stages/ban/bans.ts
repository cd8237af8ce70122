import type { EventBus } from '../../events/bus.js';
import { clientNetwork, DEFAULT_IPV6_PREFIX } from '../../server/client-network.js';
import type { Store } from '../../stores/store.js';
import { banCacheOf, banId, MAX_CACHED_BANS } from './ban-cache.js';

export type BanTarget = { kind: 'ip' | 'identity'; value: string };
export interface BanRecord {
  kind: BanTarget['kind'];
  value: string;
  reason: string;
  until: string;
  createdAt: string;
  /** What an `ip` ban covers when that is more than `value`: the IPv6 network (`2001:db8:1:2::/64`). */
  network?: string;
}

const PREFIX = 'ban:';
// Marks a ban whose end was already announced, so instances sharing the store say it once.
const liftedKeyOf = (r: BanRecord) => `banlifted:${r.kind}:${r.value}:${r.until}`;
const LIFTED_MARK_MS = 3_600_000;
// The targets that have (or recently had) a ban, so an instance can read every ban without
// scanning the keyspace. Members whose ban is gone are pruned by the reader.
const INDEX_KEY = 'banindex';
const READ_BATCH = 100;

// Expiry watches per event bus (one gateway), by ban and end time: one timer per ban however
// many routes or requests meet it.
const watches = new WeakMap<EventBus, Map<string, NodeJS.Timeout>>();

/**
 * Bans live in the state store with their duration as TTL, so every instance honours them. An
 * `ip` ban is keyed by the address's network (`clientNetwork` with `server.ipv6Prefix`): banning
 * one address of an IPv6 /64 bans the /64, and looking up any address of it finds the ban.
 */
export class Bans {
  readonly #store: Store;
  readonly #events: EventBus | undefined;
  readonly #ipv6Prefix: number;
  constructor(store: Store, events?: EventBus, ipv6Prefix: number = DEFAULT_IPV6_PREFIX) {
    this.#store = store;
    this.#events = events;
    this.#ipv6Prefix = ipv6Prefix;
  }

  #keyOf(t: BanTarget): string {
    return `${PREFIX}${t.kind}:${t.kind === 'ip' ? clientNetwork(t.value, this.#ipv6Prefix) : t.value}`;
  }

  /** The ban on `t`, from the store (which rejects when it cannot answer: see BanCache.known). */
  async get(t: BanTarget): Promise<BanRecord | undefined> {
    const key = this.#target(t);
    const record = await this.#read(key);
    banCacheOf(this.#store)?.note(key, record);
    return record;
  }

  /** The target as the store keys it: an `ip` ban by the address's network. */
  #target(t: BanTarget): BanTarget {
    return t.kind === 'ip' ? { kind: 'ip', value: clientNetwork(t.value, this.#ipv6Prefix) } : t;
  }

  async #read(t: BanTarget): Promise<BanRecord | undefined> {
    const raw = await this.#store.get(this.#keyOf(t));
    return raw === undefined ? undefined : (JSON.parse(raw) as BanRecord);
  }

  /**
   * Every active ban, read through the ban index (at most MAX_CACHED_BANS), for the ban cache.
   * `scan`: also list the `ban:` keys, which finds bans made before the index existed.
   */
  async loadAll(scan = false): Promise<BanRecord[]> {
    const ids = new Set((await this.#store.setMembers(INDEX_KEY)).slice(0, MAX_CACHED_BANS));
    if (scan) {
      const unindexed = (await this.#store.keys(PREFIX, MAX_CACHED_BANS)).map((k) => k.slice(PREFIX.length)).filter((id) => !ids.has(id));
      for (const id of unindexed) ids.add(id);
      if (unindexed.length > 0) await this.#store.setAdd(INDEX_KEY, unindexed);
    }
    const targets = [...ids].flatMap((id): BanTarget[] => {
      const i = id.indexOf(':');
      const kind = id.slice(0, i);
      return kind === 'ip' || kind === 'identity' ? [{ kind, value: id.slice(i + 1) }] : [];
    });
    const out: BanRecord[] = [];
    const gone: string[] = [];
    for (let i = 0; i < targets.length; i += READ_BATCH) {
      const batch = targets.slice(i, i + READ_BATCH);
      // Issued together, so a batch costs one round trip on Redis rather than one per ban.
      const records = await Promise.all(batch.map((t) => this.#read(t)));
      records.forEach((r, j) => (r ? out.push(r) : gone.push(banId(batch[j] as BanTarget))));
    }
    if (gone.length > 0) await this.#store.setRemove(INDEX_KEY, gone);
    return out;
  }

  async add(t: BanTarget, durationMs: number, reason: string): Promise<BanRecord> {
    const now = Date.now();
    const key = this.#target(t);
    const network = key.value;
    const record: BanRecord = { kind: t.kind, value: t.value, reason, until: new Date(now + durationMs).toISOString(), createdAt: new Date(now).toISOString(), ...(network !== t.value ? { network } : {}) };
    await this.#store.set(this.#keyOf(key), JSON.stringify(record), durationMs);
    banCacheOf(this.#store)?.note(key, record);
    // After the ban, so a reader never prunes the member of a ban about to be written. Best
    // effort: the ban already holds, and is announced below; an unindexed ban is still found by
    // every lookup of its target (and by the scan an instance makes when it starts).
    await this.#store.setAdd(INDEX_KEY, [banId(key)]).catch(() => undefined);
    this.watchExpiry(record);
    this.#events?.emit({
      action: 'ban.applied', severity: 'high', outcome: 'success', reason,
      ...(t.kind === 'ip' ? { sourceIp: t.value } : { userId: t.value }),
      details: { target: t.kind, durationMs, until: record.until, ...(record.network ? { network: record.network } : {}) },
    });
    return record;
  }

  /**
   * Announces `ban.lifted` (reason `expired`) when the ban runs out. Bans expire by TTL in the
   * store, which tells no one; so the instance that applied a ban, and every instance that
   * refused a request under it, watch its end, and a mark in the store makes exactly one of them
   * speak. A ban extended or replaced in the meantime is watched anew.
   */
  watchExpiry(record: BanRecord): void {
    const events = this.#events;
    if (!events) return;
    let mine = watches.get(events);
    if (!mine) watches.set(events, (mine = new Map()));
    const id = `${record.kind}:${record.value}@${record.until}`;
    if (mine.has(id)) return;
    const delay = Math.max(0, Date.parse(record.until) - Date.now()) + 25;
    const timer = setTimeout(() => {
      mine.delete(id);
      void this.#announceEnd(record).catch(() => undefined);
    }, delay);
    // Housekeeping must never keep the process alive.
    timer.unref();
    mine.set(id, timer);
  }

  async #announceEnd(record: BanRecord): Promise<void> {
    const current = await this.get(record);
    if (current) {
      if (current.until !== record.until) this.watchExpiry(current);
      return;
    }
    if (!(await this.#store.setIfAbsent(liftedKeyOf(record), '1', LIFTED_MARK_MS))) return;
    this.#events?.emit({
      action: 'ban.lifted', severity: 'medium', outcome: 'success', reason: 'expired',
      ...(record.kind === 'ip' ? { sourceIp: record.value } : { userId: record.value }),
      details: { target: record.kind, until: record.until },
    });
  }

  async remove(t: BanTarget): Promise<boolean> {
    const record = await this.get(t);
    const key = this.#target(t);
    const removed = await this.#store.delete(this.#keyOf(key));
    banCacheOf(this.#store)?.note(key, undefined);
    // Best effort: a member whose ban is gone is pruned by the next reader of the index.
    await this.#store.setRemove(INDEX_KEY, [banId(key)]).catch(() => undefined);
    // Its expiry will not be announced as well.
    if (record) await this.#store.setIfAbsent(liftedKeyOf(record), '1', LIFTED_MARK_MS);
    if (removed) {
      this.#events?.emit({ action: 'ban.lifted', severity: 'medium', outcome: 'success', reason: 'removed', ...(t.kind === 'ip' ? { sourceIp: t.value } : { userId: t.value }), details: { target: t.kind } });
    }
    return removed;
  }

  async list(): Promise<BanRecord[]> {
    const keys = await this.#store.keys(PREFIX, 10_000);
    const out: BanRecord[] = [];
    for (const k of keys) {
      const raw = await this.#store.get(k);
      if (raw !== undefined) out.push(JSON.parse(raw) as BanRecord);
    }
    return out;
  }
}
