import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Store } from '../../stores/store.js';

type SigningKey = Exclude<Awaited<ReturnType<typeof importJWK>>, Uint8Array>;

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export interface SigningKeys {
  /** The key to sign with now (created on first use of its period). */
  current(): Promise<{ kid: string; privateKey: SigningKey }>;
  /** Public keys still valid for verification: the current period and the ones whose tokens may live. */
  jwks(): Promise<{ keys: JWK[] }>;
  /** A jose key resolver over jwks(), for the gateway's own issuer. */
  getKey: JWTVerifyGetKey;
}

/**
 * The gateway's own ES256 signing keys, one per rotation period, kept in the state store so every
 * instance (and `bulwark token`) signs and verifies with the same keys. A period's key is created
 * with setIfAbsent: when two instances race, one key wins and both use it.
 */
export function createSigningKeys(store: Store, opts: { rotateMs: number; ttlMs: number }): SigningKeys {
  // Enough past periods that a token signed at the end of an old period can still be verified.
  const keep = Math.ceil(opts.ttlMs / opts.rotateMs) + 1;
  const period = () => Math.floor(Date.now() / opts.rotateMs);
  let cache: { period: number; keys: StoredKey[]; set: JWTVerifyGetKey } | undefined;
  let lastRefresh = 0;

  async function keyFor(p: number, create: boolean): Promise<StoredKey | undefined> {
    const name = `jwt-signing:${p}`;
    let raw = await store.get(name);
    if (raw === undefined && create) {
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const kid = `bw-${p}-${Math.random().toString(36).slice(2, 8)}`;
      const candidate: StoredKey = { kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' }, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
      await store.setIfAbsent(name, JSON.stringify(candidate), opts.rotateMs * (keep + 1));
      raw = await store.get(name);
    }
    return raw === undefined ? undefined : (JSON.parse(raw) as StoredKey);
  }

  async function load(): Promise<{ keys: StoredKey[]; set: JWTVerifyGetKey }> {
    const p = period();
    if (cache && cache.period === p) return cache;
    const keys: StoredKey[] = [];
    for (let i = 0; i < keep; i++) {
      const k = await keyFor(p - i, i === 0);
      if (k) keys.push(k);
    }
    const set = createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) });
    cache = { period: p, keys, set };
    return cache;
  }

  return {
    async current() {
      const { keys } = await load();
      const k = keys[0] as StoredKey;
      return { kid: k.kid, privateKey: (await importJWK(k.privateJwk, 'ES256')) as SigningKey };
    },
    async jwks() {
      const { keys } = await load();
      return { keys: keys.map((k) => k.publicJwk) };
    },
    getKey: async (header, token) => {
      let { set, keys } = await load();
      // A kid we do not know may have been created by another instance since the cache was built;
      // look again, at most every 30 s, so random kids cannot turn into a store read per request.
      if (header.kid !== undefined && !keys.some((k) => k.kid === header.kid) && Date.now() - lastRefresh > 30_000) {
        lastRefresh = Date.now();
        cache = undefined;
        ({ set } = await load());
      }
      return set(header, token);
    },
  };
}
