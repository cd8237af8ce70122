import { createHash } from 'node:crypto';
import type { EventBus } from '../events/bus.js';
import type { Severity } from '../events/event.js';
import type { Store } from '../stores/store.js';
import { INVENTORY_PREFIX, inventoryKeys, MAX_CLIENTS_COUNTED, MAX_TEMPLATES } from './inventory-store.js';
import { pathTemplate } from './template.js';

/** Who made a request: the address events name, and the network the bounds count by. */
export interface InventoryClient {
  ip: string;
  network: string;
}

/** Why a template was left out of the inventory (the `bound` of `inventory.overflow`). */
export type InventoryBound = 'client' | 'prefix' | 'client_prefix' | 'total' | 'pending';

/** Records every request as method + path template; flushed to the state store in batches. */
export interface InventoryRecorder {
  record(method: string, path: string, route: string | undefined, status: number, client: InventoryClient): void;
  /** Templates left out so far, by bound (bulwark_inventory_overflow_total). */
  overflow(): Readonly<Record<InventoryBound, number>>;
  /** Writes what is pending (also on a timer). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  method: string;
  template: string;
  route: string | undefined;
  count: number;
  statuses: Record<string, number>;
  clients: Set<string>;
  lastAt: number;
}

// In-process bounds: templates pending between flushes, clients remembered per template.
const MAX_PENDING = 5000;
const MAX_CLIENTS_PER_FLUSH = 200;
// A client that meets this many unregistered templates within the window is probing.
const PROBE_TEMPLATES = 10;
const PROBE_WINDOW_MS = 60_000;
const MAX_PROBERS_TRACKED = 10_000;
// What unregistered traffic may add, so junk cannot fill the store's MAX_TEMPLATES before a real
// probe arrives: new templates per client network per window, and templates per path prefix
// (the first segment of a path of two or more segments: `/cgi-bin/...`).
export const MAX_NEW_TEMPLATES_PER_CLIENT = 100;
const CLIENT_WINDOW_MS = 3_600_000;
export const MAX_TEMPLATES_PER_PREFIX = 100;
// One client network's share of a prefix: one client filling `/debug/...` with junk must leave
// room for another client's real probe of `/debug/pprof`.
export const MAX_TEMPLATES_PER_PREFIX_PER_CLIENT = 20;
const MAX_PREFIXES_TRACKED = 10_000;
// inventory.overflow: once per bound and key (client network, prefix) per window.
const OVERFLOW_REPORT_MS = 3_600_000;

/** Client networks are kept only as digests: the inventory counts clients, it does not list them. */
const clientDigest = (network: string) => createHash('sha256').update(network).digest('base64url').slice(0, 16);

/** `/cgi-bin` for `/cgi-bin/{id}/x`; undefined for a one-segment path (its own prefix). */
function prefixOf(template: string): string | undefined {
  const i = template.indexOf('/', 1);
  return i > 0 ? template.slice(0, i) : undefined;
}

/** Severity of a new endpoint from how hard it is being hit: volume and distinct clients. */
export function newEndpointSeverity(count: number, clients: number): Severity {
  if (clients >= 5 || count >= 100) return 'high';
  if (clients >= 2 || count >= 10) return 'medium';
  return 'low';
}

export function createInventoryRecorder(opts: { store: Store; events: EventBus; flushMs?: number }): InventoryRecorder {
  const { store, events } = opts;
  let pending = new Map<string, Pending>();
  let overflow = 0;
  const dropped: Record<InventoryBound, number> = { client: 0, prefix: 0, client_prefix: 0, total: 0, pending: 0 };
  const newByClient = new Map<string, { since: number; count: number }>();
  const byPrefix = new Map<string, number>();
  const byClientPrefix = new Map<string, number>();
  const reported = new Map<string, number>();
  /** Templates this process already registered in the store (first-seen is written once). */
  const known = new Set<string>();
  const clientsAdded = new Map<string, number>();
  const probers = new Map<string, { since: number; templates: Set<string>; reported: boolean }>();
  let flushing: Promise<void> | undefined;
  let closed = false;

  const noteProbe = (client: InventoryClient, key: string, now: number) => {
    const ip = client.ip;
    let p = probers.get(client.network);
    if (!p || now - p.since > PROBE_WINDOW_MS) {
      if (!p && probers.size >= MAX_PROBERS_TRACKED) probers.clear();
      p = { since: now, templates: new Set(), reported: false };
      probers.set(client.network, p);
    }
    if (p.templates.size < PROBE_TEMPLATES) p.templates.add(key);
    if (!p.reported && p.templates.size >= PROBE_TEMPLATES) {
      p.reported = true;
      // A signal for the adaptive limiter (onSignals: [inventory.probe]) and for alert rules.
      events.emit({ action: 'inventory.probe', severity: 'medium', outcome: 'success', reason: 'unknown_paths', sourceIp: ip, details: { templates: p.templates.size, windowMs: PROBE_WINDOW_MS } });
    }
  };

  /** Counts a template left out; says so once per bound and key per window. */
  const overflowed = (bound: InventoryBound, key: string, n: number, detail: { client?: InventoryClient; prefix?: string; limit: number }) => {
    dropped[bound] += n;
    const now = Date.now();
    const id = `${bound}\u0000${key}`;
    if ((reported.get(id) ?? 0) > now) return;
    if (reported.size >= MAX_PROBERS_TRACKED) reported.clear();
    reported.set(id, now + OVERFLOW_REPORT_MS);
    events.emit({
      action: 'inventory.overflow', severity: 'medium', outcome: 'failure', reason: `${bound}_bound`,
      ...(detail.client ? { sourceIp: detail.client.ip } : {}),
      details: { bound, limit: detail.limit, ...(detail.prefix !== undefined ? { prefix: detail.prefix } : {}), dropped: dropped[bound] },
    });
  };

  /** Whether an unregistered template not yet seen may become a candidate for the inventory. */
  const admitNew = (template: string, client: InventoryClient, now: number): boolean => {
    let c = newByClient.get(client.network);
    if (!c || now - c.since > CLIENT_WINDOW_MS) {
      if (!c && newByClient.size >= MAX_PROBERS_TRACKED) newByClient.clear();
      c = { since: now, count: 0 };
      newByClient.set(client.network, c);
    }
    if (c.count >= MAX_NEW_TEMPLATES_PER_CLIENT) {
      overflowed('client', client.network, 1, { client, limit: MAX_NEW_TEMPLATES_PER_CLIENT });
      return false;
    }
    const prefix = prefixOf(template);
    if (prefix !== undefined) {
      const n = byPrefix.get(prefix) ?? 0;
      if (n >= MAX_TEMPLATES_PER_PREFIX) {
        overflowed('prefix', prefix, 1, { prefix, limit: MAX_TEMPLATES_PER_PREFIX });
        return false;
      }
      const mineKey = `${client.network} ${prefix}`;
      const mine = byClientPrefix.get(mineKey) ?? 0;
      if (mine >= MAX_TEMPLATES_PER_PREFIX_PER_CLIENT) {
        overflowed('client_prefix', mineKey, 1, { client, prefix, limit: MAX_TEMPLATES_PER_PREFIX_PER_CLIENT });
        return false;
      }
      if (n === 0 && byPrefix.size >= MAX_PREFIXES_TRACKED) byPrefix.clear();
      if (mine === 0 && byClientPrefix.size >= MAX_PREFIXES_TRACKED) byClientPrefix.clear();
      byPrefix.set(prefix, n + 1);
      byClientPrefix.set(mineKey, mine + 1);
    }
    c.count++;
    return true;
  };

  const flushOnce = async (): Promise<void> => {
    const batch = pending;
    const lost = overflow;
    pending = new Map();
    overflow = 0;
    if (lost > 0) await store.increment(`${INVENTORY_PREFIX}overflow`, lost).catch(() => undefined);
    for (const p of batch.values()) {
      const key = `${p.method} ${p.template}`;
      const { metaKey, entryKey, counterKey, clientsKey } = inventoryKeys;
      try {
        let isNew = false;
        if (!known.has(key)) {
          const firstSeen = new Date(p.lastAt).toISOString();
          isNew = await store.setIfAbsent(metaKey(p.method, p.template), JSON.stringify({ method: p.method, template: p.template, ...(p.route ? { route: p.route } : {}), firstSeen }));
          if (isNew && (await store.increment(`${INVENTORY_PREFIX}templates`)) > MAX_TEMPLATES) {
            // Bounded: past the limit a new template only counts as overflow.
            await store.delete(metaKey(p.method, p.template));
            await store.increment(`${INVENTORY_PREFIX}overflow`, p.count);
            overflowed('total', '', 1, { limit: MAX_TEMPLATES });
            known.add(key);
            continue;
          }
          known.add(key);
        }
        await store.increment(counterKey(p.method, p.template, 'count'), p.count);
        for (const [cls, n] of Object.entries(p.statuses)) await store.increment(counterKey(p.method, p.template, cls), n);
        await store.set(entryKey(p.method, p.template), new Date(p.lastAt).toISOString());
        const added = clientsAdded.get(key) ?? 0;
        if (added < MAX_CLIENTS_COUNTED && p.clients.size > 0) {
          const digests = [...p.clients].slice(0, MAX_CLIENTS_COUNTED - added).map(clientDigest);
          await store.setAdd(clientsKey(p.method, p.template), digests);
          clientsAdded.set(key, added + digests.length);
        }
        if (isNew && p.route === undefined) {
          events.emit({
            action: 'inventory.new_endpoint', severity: newEndpointSeverity(p.count, p.clients.size), outcome: 'success', reason: 'unregistered',
            method: p.method, path: p.template, details: { template: p.template, count: p.count, clients: p.clients.size },
          });
        }
      } catch {
        // The inventory is observability: a store outage loses counts, never a request.
      }
    }
  };

  const flush = async (): Promise<void> => {
    while (flushing) await flushing;
    if (pending.size === 0 && overflow === 0) return;
    flushing = flushOnce().finally(() => {
      flushing = undefined;
    });
    await flushing;
  };

  const timer = setInterval(() => void flush(), opts.flushMs ?? 2000);
  timer.unref();

  return {
    record(method, path, route, status, client) {
      if (closed) return;
      const template = pathTemplate(path);
      const key = `${method} ${template}`;
      const now = Date.now();
      // A prober is a prober whether or not its paths still fit in the inventory.
      if (route === undefined) noteProbe(client, key, now);
      let p = pending.get(key);
      if (!p) {
        if (pending.size >= MAX_PENDING) {
          overflow++;
          overflowed('pending', '', 1, { limit: MAX_PENDING });
          return;
        }
        if (route === undefined && !known.has(key) && !admitNew(template, client, now)) {
          overflow++;
          return;
        }
        p = { method, template, route, count: 0, statuses: {}, clients: new Set(), lastAt: 0 };
        pending.set(key, p);
      }
      p.count++;
      const cls = `${Math.floor(status / 100)}xx`;
      p.statuses[cls] = (p.statuses[cls] ?? 0) + 1;
      if (p.clients.size < MAX_CLIENTS_PER_FLUSH) p.clients.add(client.network);
      p.lastAt = now;
    },
    overflow: () => ({ ...dropped }),
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}
