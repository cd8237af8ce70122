import type { EventBus } from '../../events/bus.js';
import type { Store } from '../../stores/store.js';

export type BanTarget = { kind: 'ip' | 'identity'; value: string };
export interface BanRecord {
  kind: BanTarget['kind'];
  value: string;
  reason: string;
  until: string;
  createdAt: string;
}

const PREFIX = 'ban:';
const keyOf = (t: BanTarget) => `${PREFIX}${t.kind}:${t.value}`;

/** Bans live in the state store with their duration as TTL, so every instance honours them. */
export class Bans {
  readonly #store: Store;
  readonly #events: EventBus | undefined;
  constructor(store: Store, events?: EventBus) {
    this.#store = store;
    this.#events = events;
  }

  async get(t: BanTarget): Promise<BanRecord | undefined> {
    const raw = await this.#store.get(keyOf(t));
    return raw === undefined ? undefined : (JSON.parse(raw) as BanRecord);
  }

  async add(t: BanTarget, durationMs: number, reason: string): Promise<BanRecord> {
    const now = Date.now();
    const record: BanRecord = { kind: t.kind, value: t.value, reason, until: new Date(now + durationMs).toISOString(), createdAt: new Date(now).toISOString() };
    await this.#store.set(keyOf(t), JSON.stringify(record), durationMs);
    this.#events?.emit({
      action: 'ban.applied', severity: 'high', outcome: 'success', reason,
      ...(t.kind === 'ip' ? { sourceIp: t.value } : { userId: t.value }),
      details: { target: t.kind, durationMs, until: record.until },
    });
    return record;
  }

  async remove(t: BanTarget): Promise<boolean> {
    const removed = await this.#store.delete(keyOf(t));
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
