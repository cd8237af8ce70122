import { randomUUID } from 'node:crypto';
import type { Store } from '../../stores/store.js';

/** An ingestion item held for review instead of being forwarded. */
export interface QuarantinedItem {
  id: string;
  route: string;
  method: string;
  /** Canonical path and query, as they would have been forwarded. */
  target: string;
  /** The screened JSON body, serialized as it would have been forwarded. */
  body: string;
  /** Headers the gateway itself adds upstream (identity headers); never client credentials. */
  gatewayHeaders: Record<string, string>;
  sourceIp: string;
  userId?: string;
  reasons: string[];
  score?: number;
  requestId: string;
  createdAt: string;
  until: string;
}

const PREFIX = 'quarantine:';

/** Quarantined items in the state store (TTL `keepFor`), shared by every instance and the CLI. */
export class Quarantine {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async put(item: Omit<QuarantinedItem, 'id' | 'createdAt' | 'until'>, keepForMs: number): Promise<QuarantinedItem> {
    const now = Date.now();
    const full: QuarantinedItem = { id: `q_${randomUUID()}`, createdAt: new Date(now).toISOString(), until: new Date(now + keepForMs).toISOString(), ...item };
    await this.#store.set(PREFIX + full.id, JSON.stringify(full), keepForMs);
    return full;
  }

  async get(id: string): Promise<QuarantinedItem | undefined> {
    const raw = await this.#store.get(PREFIX + id);
    return raw === undefined ? undefined : (JSON.parse(raw) as QuarantinedItem);
  }

  async drop(id: string): Promise<boolean> {
    return this.#store.delete(PREFIX + id);
  }

  async list(limit = 1000): Promise<QuarantinedItem[]> {
    const out: QuarantinedItem[] = [];
    for (const k of await this.#store.keys(PREFIX, limit)) {
      const raw = await this.#store.get(k);
      if (raw !== undefined) out.push(JSON.parse(raw) as QuarantinedItem);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}
