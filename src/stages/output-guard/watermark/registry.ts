import { randomBytes } from 'node:crypto';
import type { Store } from '../../../stores/store.js';
import { clientTagOf, extractTags, identify, tagHex, type IdentifyResult, type WatermarkKey } from './text.js';

/** Store key of the watermark secret (32 random bytes, base64), created once per installation. */
export const WATERMARK_KEY = 'watermark:key';
/** Store key prefix of the client registry: `watermark:client:<8 hex>` → client id. */
export const CLIENT_PREFIX = 'watermark:client:';
/** Further client ids on a 32-bit client-tag collision (a set). */
const COLLISION_PREFIX = 'watermark:clients:';

const keys = new WeakMap<Store, Promise<Buffer>>();

/**
 * The installation's watermark key: created once in the state store with `setIfAbsent` (so
 * every gateway instance and the CLI sharing the store use the same key), cached per store.
 */
export function watermarkKey(store: Store): Promise<Buffer> {
  let p = keys.get(store);
  if (!p) {
    p = (async () => {
      await store.setIfAbsent(WATERMARK_KEY, randomBytes(32).toString('base64'));
      const b64 = await store.get(WATERMARK_KEY);
      if (!b64) throw new Error('watermark key missing from the state store');
      const key = Buffer.from(b64, 'base64');
      if (key.length < 16) throw new Error('watermark key in the state store is too short');
      return key;
    })();
    keys.set(store, p);
    // A failed read (store down) is not cached: the next call tries again.
    p.catch(() => keys.delete(store));
  }
  return p;
}

const MAX_REMEMBERED = 100_000;
const remembered = new WeakMap<Store, Map<string, Promise<void>>>();

async function record(store: Store, hex: string, clientId: string): Promise<void> {
  if (await store.setIfAbsent(CLIENT_PREFIX + hex, clientId)) return;
  const existing = await store.get(CLIENT_PREFIX + hex);
  if (existing !== undefined && existing !== clientId) await store.setAdd(COLLISION_PREFIX + hex, [clientId]);
}

/**
 * Record clientTag → clientId the first time this process watermarks for a client: one store
 * write per client per process (no TTL, so a leak can be traced long after). A 32-bit tag shared
 * by two clients keeps both (`lookupClients`).
 */
export function rememberClient(store: Store, key: WatermarkKey, clientId: string): Promise<void> {
  let seen = remembered.get(store);
  if (!seen) remembered.set(store, (seen = new Map()));
  const cacheKey = tagHex(clientTagOf(key, clientId)) + '\0' + clientId;
  let p = seen.get(cacheKey);
  if (!p) {
    if (seen.size >= MAX_REMEMBERED) seen.clear();
    p = record(store, cacheKey.slice(0, 8), clientId);
    seen.set(cacheKey, p);
    const cache = seen;
    p.catch(() => cache.delete(cacheKey));
  }
  return p;
}

/** The client id first recorded for a client tag (8 hex digits). */
export async function lookupClient(store: Store, hex: string): Promise<string | undefined> {
  return store.get(CLIENT_PREFIX + hex.toLowerCase());
}

/** Every client id recorded for a client tag: the first one, then any that collided with it. */
export async function lookupClients(store: Store, hex: string): Promise<string[]> {
  const h = hex.toLowerCase();
  const first = await store.get(CLIENT_PREFIX + h);
  if (first === undefined) return [];
  const more = (await store.setMembers(COLLISION_PREFIX + h)).filter((c) => c !== first).sort();
  return [first, ...more];
}

/** The watermark key when the store has one; never creates it (for read-only tools). */
export async function readWatermarkKey(store: Store): Promise<Buffer | undefined> {
  const b64 = await store.get(WATERMARK_KEY);
  return b64 ? Buffer.from(b64, 'base64') : undefined;
}

/**
 * `identify` with the key and the client registry read from the store (what the CLI runs).
 * Writes nothing: a store without a watermark key never watermarked anything.
 */
export async function identifyWithStore(text: string, store: Store): Promise<IdentifyResult> {
  const key = await readWatermarkKey(store);
  if (!key) {
    const n = extractTags(text).length;
    return {
      found: false, clientTag: '', tagsFound: n, verified: 0,
      confidence: n === 0 ? 'no tag' : `${n} tag${n === 1 ? '' : 's'} present but this state store holds no watermark key (${WATERMARK_KEY}): use the store the gateway uses`,
    };
  }
  const hexes = [...new Set(extractTags(text).map((t) => tagHex(t.clientTag)))];
  const registry = new Map<string, string[]>();
  for (const h of hexes) registry.set(h, await lookupClients(store, h));
  return identify(text, { key, clients: (h) => {
    const ids = registry.get(h);
    return ids && ids.length > 0 ? ids : undefined;
  } });
}
