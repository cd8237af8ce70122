import type { EventBus } from '../../events/bus.js';
import type { Store } from '../../stores/store.js';
import type { BanRecord, BanTarget } from './bans.js';

// How often the known bans are read again from the store. A ban made elsewhere (another
// instance, the CLI) less than this long before Redis went away may be missing from the cache.
export const BAN_REFRESH_MS = 2_000;
// Most bans kept; further ones are counted as dropped (and reported), never an unbounded map.
export const MAX_CACHED_BANS = 10_000;
const REPORT_EVERY_MS = 10_000;

export const banId = (t: BanTarget): string => `${t.kind}:${t.value}`;

/**
 * The bans this process knows, with their expiry: what the ban stages enforce when the store
 * cannot be asked (`state.redis.onError: local`), so a failed lookup never reads as "not banned"
 * for a client banned before the outage. Fed by every lookup and by a full read of the store's
 * ban index every BAN_REFRESH_MS; an entry never outlives its ban's end.
 */
export class BanCache {
  readonly #known = new Map<string, { record: BanRecord; untilMs: number }>();
  readonly #load: () => Promise<BanRecord[]>;
  readonly #events: EventBus | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshing = false;
  #lastReport = 0;
  /** Bans not kept because the cache was full. */
  dropped = 0;

  constructor(load: () => Promise<BanRecord[]>, events?: EventBus) {
    this.#load = load;
    this.#events = events;
  }

  get size(): number {
    return this.#known.size;
  }

  /** The cached ban on `t`, if it has not ended. */
  known(t: BanTarget): BanRecord | undefined {
    const id = banId(t);
    const hit = this.#known.get(id);
    if (!hit) return undefined;
    if (hit.untilMs > Date.now()) return hit.record;
    this.#known.delete(id);
    return undefined;
  }

  /** What the store just said about `t`: a ban, or none (lifted, expired). */
  note(t: BanTarget, record: BanRecord | undefined): void {
    const id = banId(t);
    if (!record) {
      this.#known.delete(id);
      return;
    }
    const untilMs = Date.parse(record.until);
    if (!(untilMs > Date.now())) {
      this.#known.delete(id);
      return;
    }
    if (!this.#known.has(id) && this.#known.size >= MAX_CACHED_BANS) {
      this.#drop(1);
      return;
    }
    this.#known.set(id, { record, untilMs });
  }

  /** Reads every ban from the store; the cache becomes that list. A failed read keeps what it has. */
  async refresh(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      const records = await this.#load();
      this.#known.clear();
      const now = Date.now();
      let over = 0;
      for (const record of records) {
        const untilMs = Date.parse(record.until);
        if (!(untilMs > now)) continue;
        if (this.#known.size >= MAX_CACHED_BANS) over++;
        // An `ip` ban is looked up by the network it covers, which the record names when it differs.
        else this.#known.set(banId({ kind: record.kind, value: record.network ?? record.value }), { record, untilMs });
      }
      if (over > 0) this.#drop(over);
    } catch {
      // The store is away: the bans known so far are exactly what is needed now.
    } finally {
      this.#refreshing = false;
    }
  }

  start(): void {
    if (this.#timer) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), BAN_REFRESH_MS);
    // Housekeeping must never keep the process alive.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #drop(n: number): void {
    this.dropped += n;
    if (Date.now() - this.#lastReport < REPORT_EVERY_MS) return;
    this.#lastReport = Date.now();
    this.#events?.emit({
      action: 'stage.error', severity: 'medium', outcome: 'failure', stage: 'ban', reason: 'ban_cache_full',
      message: `more than ${MAX_CACHED_BANS} active bans: the excess is not kept locally and is not enforced during a store outage`,
      details: { dropped: this.dropped, max: MAX_CACHED_BANS },
    });
  }
}

// One cache per store (one gateway), shared by every route's ban stages; counted so that the
// refresh stops when the last stage using it is closed.
const caches = new WeakMap<Store, { cache: BanCache; users: number }>();

/** The store's ban cache, started if it is not yet running; pair with releaseBanCache. */
export function acquireBanCache(store: Store, load: () => Promise<BanRecord[]>, events?: EventBus): BanCache {
  let entry = caches.get(store);
  if (!entry) caches.set(store, (entry = { cache: new BanCache(load, events), users: 0 }));
  entry.users++;
  entry.cache.start();
  return entry.cache;
}

export function releaseBanCache(store: Store): void {
  const entry = caches.get(store);
  if (!entry || --entry.users > 0) return;
  entry.cache.stop();
  caches.delete(store);
}

/** The running ban cache of `store`, if a ban stage keeps one (Redis with `onError: local`). */
export function banCacheOf(store: Store): BanCache | undefined {
  return caches.get(store)?.cache;
}

/** The ban on `t` that the gateway on `store` would enforce without the store (tests, status). */
export function knownBan(store: Store, t: BanTarget): BanRecord | undefined {
  return banCacheOf(store)?.known(t);
}
