import type { JWTPayload } from 'jose';
import { keyState, type ApiKeyRecord, type ApiKeyStore } from './api-key-store.js';

/** The claim naming the API key a token was traded for (tokens of the gateway's own issuer). */
export const KEY_ID_CLAIM = 'bulwark_key_id';
/** The subject the gateway gives an API key's identity; a token with it speaks for that key. */
const KEY_SUBJECT = 'apikey:';
/**
 * A key's record is re-read at most this long after it was last read, as bans are: a revocation
 * made by another process (an instance's alert, the CLI) ends the key's tokens within this time.
 */
export const KEY_STATUS_CACHE_MS = 1000;
const KEY_STATUS_CACHE_MAX = 10_000;
const MAX_KEY_ID_LENGTH = 128;

export type KeyBindingResult = { ok: true } | { ok: false; reason: 'key_unknown' | 'key_revoked' | 'key_expired' | 'key_claim_invalid' };

export interface KeyBinding {
  /** Whether the key a gateway-issued token speaks for (if any) is still valid now. */
  check(payload: JWTPayload, now?: number): Promise<KeyBindingResult>;
  /** Drops a key's cached record (a revocation heard in this process applies at once). */
  forget(keyId: string): void;
  /** Cache entries dropped to stay within the bound (each costs one extra store read). */
  readonly stats: { readonly evicted: number };
}

interface Entry {
  until: number;
  record: Promise<ApiKeyRecord | undefined>;
}

/**
 * Binds the gateway's own tokens to the API keys they were traded for. The key comes from the
 * `bulwark_key_id` claim, or, for tokens without it (minted before the claim existed, or by
 * `bulwark token --sub apikey:<id>`), from an `apikey:<id>` subject: a token that names a key's
 * identity lives only as long as that key. A token naming no key (`bulwark token --sub alice`)
 * is bound to nothing. An unknown key fails closed: its record may be gone with a store that
 * restarted empty, and then nothing vouches for it.
 */
export function createKeyBinding(keys: ApiKeyStore | undefined): KeyBinding {
  const cache = new Map<string, Entry>();
  const stats = { evicted: 0 };

  function lookup(id: string, now: number): Promise<ApiKeyRecord | undefined> {
    const hit = cache.get(id);
    if (hit && hit.until > now) return hit.record;
    if (hit) cache.delete(id);
    // One read per key per window however many requests arrive at once.
    const record = keys ? keys.get(id) : Promise.resolve(undefined);
    if (cache.size >= KEY_STATUS_CACHE_MAX) {
      cache.delete(cache.keys().next().value as string);
      stats.evicted++;
    }
    const entry: Entry = { until: now + KEY_STATUS_CACHE_MS, record };
    cache.set(id, entry);
    // A failed read is not remembered: the next request asks the store again.
    record.catch(() => {
      if (cache.get(id) === entry) cache.delete(id);
    });
    return record;
  }

  return {
    stats,
    forget(keyId) {
      cache.delete(keyId);
    },
    async check(payload, now = Date.now()) {
      const claim = payload[KEY_ID_CLAIM];
      const sub = typeof payload.sub === 'string' && payload.sub.startsWith(KEY_SUBJECT) ? payload.sub.slice(KEY_SUBJECT.length) : undefined;
      if (claim !== undefined && (typeof claim !== 'string' || claim === '' || claim.length > MAX_KEY_ID_LENGTH || (sub !== undefined && sub !== claim))) {
        return { ok: false, reason: 'key_claim_invalid' };
      }
      const id = claim ?? sub;
      if (id === undefined) return { ok: true };
      if (id === '' || id.length > MAX_KEY_ID_LENGTH) return { ok: false, reason: 'key_claim_invalid' };
      const record = await lookup(id, now);
      if (!record) return { ok: false, reason: 'key_unknown' };
      const state = keyState(record, now);
      return state === 'valid' ? { ok: true } : { ok: false, reason: state === 'revoked' ? 'key_revoked' : 'key_expired' };
    },
  };
}
