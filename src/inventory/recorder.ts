import { createHash } from 'node:crypto';
import type { EventBus } from '../events/bus.js';
import type { Severity } from '../events/event.js';
import type { Store } from '../stores/store.js';
import { INVENTORY_PREFIX, inventoryKeys, MAX_CLIENTS_COUNTED, MAX_TEMPLATES } from './inventory-store.js';
import { pathTemplate } from './template.js';

/** Records every request as method + path template; flushed to the state store in batches. */
export interface InventoryRecorder {
  record(method: string, path: string, route: string | undefined, status: number, clientIp: string): void;
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

/** Client addresses are kept only as digests: the inventory counts clients, it does not list them. */
const clientDigest = (ip: string) => createHash('sha256').update(ip).digest('base64url').slice(0, 16);

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
  /** Templates this process already registered in the store (first-seen is written once). */
  const known = new Set<string>();
  const clientsAdded = new Map<string, number>();
  const probers = new Map<string, { since: number; templates: Set<string>; reported: boolean }>();
  let flushing: Promise<void> | undefined;
  let closed = false;

  const noteProbe = (ip: string, key: string, now: number) => {
    let p = probers.get(ip);
    if (!p || now - p.since > PROBE_WINDOW_MS) {
      if (!p && probers.size >= MAX_PROBERS_TRACKED) probers.clear();
      p = { since: now, templates: new Set(), reported: false };
      probers.set(ip, p);
    }
    if (p.templates.size < PROBE_TEMPLATES) p.templates.add(key);
    if (!p.reported && p.templates.size >= PROBE_TEMPLATES) {
      p.reported = true;
      // A signal for the adaptive limiter (onSignals: [inventory.probe]) and for alert rules.
      events.emit({ action: 'inventory.probe', severity: 'medium', outcome: 'success', reason: 'unknown_paths', sourceIp: ip, details: { templates: p.templates.size, windowMs: PROBE_WINDOW_MS } });
    }
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
    record(method, path, route, status, clientIp) {
      if (closed) return;
      const template = pathTemplate(path);
      const key = `${method} ${template}`;
      let p = pending.get(key);
      if (!p) {
        if (pending.size >= MAX_PENDING) {
          overflow++;
          return;
        }
        p = { method, template, route, count: 0, statuses: {}, clients: new Set(), lastAt: 0 };
        pending.set(key, p);
      }
      p.count++;
      const cls = `${Math.floor(status / 100)}xx`;
      p.statuses[cls] = (p.statuses[cls] ?? 0) + 1;
      if (p.clients.size < MAX_CLIENTS_PER_FLUSH) p.clients.add(clientIp);
      const now = Date.now();
      p.lastAt = now;
      if (route === undefined) noteProbe(clientIp, key, now);
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}
