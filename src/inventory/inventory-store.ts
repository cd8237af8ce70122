import type { Store } from '../stores/store.js';

/** One endpoint seen in traffic: method plus path template. */
export interface InventoryEntry {
  method: string;
  template: string;
  /** The route that matched, or undefined for an unregistered endpoint (default deny answered 404). */
  route?: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  /** Answers by status class: `2xx`, `3xx`, `4xx`, `5xx`. */
  statuses: Record<string, number>;
  /** Distinct clients seen (counted up to 1000). */
  clients: number;
}

export const INVENTORY_PREFIX = 'inventory:';
/** Distinct templates kept; past this, new ones only count in `inventory:overflow`. */
export const MAX_TEMPLATES = 2000;
export const MAX_CLIENTS_COUNTED = 1000;

const entryKey = (method: string, template: string) => `${INVENTORY_PREFIX}e:${method} ${template}`;
const metaKey = (method: string, template: string) => `${INVENTORY_PREFIX}m:${method} ${template}`;
const clientsKey = (method: string, template: string) => `${INVENTORY_PREFIX}c:${method} ${template}`;
const counterKey = (method: string, template: string, what: string) => `${INVENTORY_PREFIX}n:${what}:${method} ${template}`;

/** Reads the inventory kept in the state store (shared by instances, survives restarts on SQLite/Redis). */
export async function listInventory(store: Store): Promise<InventoryEntry[]> {
  const keys = await store.keys(`${INVENTORY_PREFIX}m:`, MAX_TEMPLATES);
  const out: InventoryEntry[] = [];
  for (const k of keys) {
    const raw = await store.get(k);
    if (raw === undefined) continue;
    const meta = JSON.parse(raw) as { method: string; template: string; route?: string; firstSeen: string };
    const { method, template } = meta;
    const num = async (what: string) => Number((await store.get(counterKey(method, template, what))) ?? 0);
    const statuses: Record<string, number> = {};
    for (const c of ['2xx', '3xx', '4xx', '5xx']) {
      const n = await num(c);
      if (n > 0) statuses[c] = n;
    }
    out.push({
      method, template, ...(meta.route !== undefined ? { route: meta.route } : {}), firstSeen: meta.firstSeen,
      lastSeen: (await store.get(entryKey(method, template))) ?? meta.firstSeen, count: await num('count'), statuses,
      clients: (await store.setMembers(clientsKey(method, template))).length,
    });
  }
  return out.sort((a, b) => b.count - a.count || a.template.localeCompare(b.template));
}

export const inventoryKeys = { entryKey, metaKey, clientsKey, counterKey };
