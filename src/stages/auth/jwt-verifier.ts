import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { BulwarkConfig } from '../../config/schema.js';

type IssuerConfig = NonNullable<BulwarkConfig['auth']['jwt']>[number];

/** An issuer whose keys the gateway holds itself (its own token endpoint). */
export interface OwnIssuer {
  issuer: string;
  audience: string;
  getKey: JWTVerifyGetKey;
  maxLifetimeMs: number;
}

/** Why a token was refused: a closed set of codes, never the token itself. */
export type JwtFailure =
  | 'malformed' | 'too_large' | 'unknown_issuer' | 'header_key_reference' | 'algorithm' | 'signature'
  | 'expired' | 'not_yet_valid' | 'issued_in_future' | 'lifetime_too_long' | 'claim_invalid' | 'missing_sub'
  | 'no_matching_key' | 'jwks_unavailable' | 'invalid';

export type JwtResult =
  | { ok: true; subject: string; issuer: string; payload: JWTPayload; rolesClaim: string }
  | { ok: false; reason: JwtFailure };

/** Tokens above this are refused before any parsing (G-2.5). */
export const MAX_TOKEN_BYTES = 8192;
// Exactly three base64url segments, the signature non-empty: JWE (five parts), JSON serialization,
// alg=none (empty signature) and padding tricks never reach the library.
const COMPACT_JWS = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;
const KEY_REFERENCES = ['jku', 'x5u', 'jwk', 'x5c'] as const;
const DEFAULT_MAX_LIFETIME_MS = 24 * 3_600_000;
// Verified tokens are remembered briefly (by SHA-256 of the whole token, signature included):
// ES256 verification costs ~200 us and a client sends the same token many times. Time claims are
// re-checked on every use; 60 s bounds how long a key removed from a JWKS keeps its tokens alive.
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 5_000;

interface CompiledIssuer {
  config: IssuerConfig;
  key: JWTVerifyGetKey | Uint8Array;
}

export interface JwtVerifier {
  verify(token: string): Promise<JwtResult>;
}

/**
 * Built once per config: one key source per issuer (a static JWKS from a file or inline, a remote
 * JWKS cached by jose with a refresh cooldown, or an HS secret). The issuer is picked by the
 * token's exact `iss`; keys come only from that issuer's configured set, never from the token.
 */
export function createJwtVerifier(issuers: readonly IssuerConfig[], own?: OwnIssuer): JwtVerifier {
  const byIssuer = new Map<string, CompiledIssuer>();
  for (const cfg of issuers) byIssuer.set(cfg.issuer, { config: cfg, key: compileKey(cfg) });
  if (own) {
    byIssuer.set(own.issuer, {
      config: { issuer: own.issuer, audience: own.audience, algorithms: ['ES256'], clockSkew: 30_000, rolesClaim: 'roles', maxTokenAge: own.maxLifetimeMs },
      key: own.getKey,
    });
  }

  const cache = new Map<string, { result: Extract<JwtResult, { ok: true }>; until: number; skewS: number }>();

  return {
    async verify(token) {
      if (token.length > MAX_TOKEN_BYTES) return { ok: false, reason: 'too_large' };
      if (!COMPACT_JWS.test(token)) return { ok: false, reason: 'malformed' };
      const digest = createHash('sha256').update(token).digest('base64url');
      const hit = cache.get(digest);
      if (hit) {
        const nowS = Date.now() / 1000;
        if (Date.now() < hit.until && (hit.result.payload.exp as number) > nowS - hit.skewS) return hit.result;
        cache.delete(digest);
      }
      const result = await verifyUncached(token);
      if (result.ok) {
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
        cache.set(digest, { result, until: Date.now() + CACHE_TTL_MS, skewS: (byIssuer.get(result.issuer)?.config.clockSkew ?? 0) / 1000 });
      }
      return result;
    },
  };

  async function verifyUncached(token: string): Promise<JwtResult> {
    {
      let iss: unknown;
      try {
        const header = decodeProtectedHeader(token);
        if (KEY_REFERENCES.some((k) => k in header)) return { ok: false, reason: 'header_key_reference' };
        iss = decodeJwt(token).iss;
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      const issuer = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
      if (!issuer) return { ok: false, reason: 'unknown_issuer' };
      const cfg = issuer.config;
      let payload: JWTPayload;
      try {
        const opts = {
          issuer: cfg.issuer,
          audience: cfg.audience,
          algorithms: [...cfg.algorithms],
          clockTolerance: Math.floor(cfg.clockSkew / 1000),
          requiredClaims: ['exp'],
        };
        const r = issuer.key instanceof Uint8Array ? await jwtVerify(token, issuer.key, opts) : await jwtVerify(token, issuer.key, opts);
        payload = r.payload;
      } catch (err) {
        return { ok: false, reason: classify(err) };
      }
      const now = Date.now() / 1000;
      const skew = cfg.clockSkew / 1000;
      if (typeof payload.iat === 'number' && payload.iat > now + skew) return { ok: false, reason: 'issued_in_future' };
      const lifetimeMs = ((payload.exp as number) - (typeof payload.iat === 'number' ? payload.iat : now)) * 1000;
      if (lifetimeMs > (cfg.maxTokenAge ?? DEFAULT_MAX_LIFETIME_MS)) return { ok: false, reason: 'lifetime_too_long' };
      if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, reason: 'missing_sub' };
      return { ok: true, subject: payload.sub, issuer: cfg.issuer, payload, rolesClaim: cfg.rolesClaim };
    }
  }
}

function compileKey(cfg: IssuerConfig): JWTVerifyGetKey | Uint8Array {
  if (cfg.secret !== undefined) return new TextEncoder().encode(cfg.secret);
  const jwks = cfg.jwks;
  if (jwks === undefined) throw new Error(`auth.jwt issuer ${cfg.issuer}: set jwks or secret`);
  if (typeof jwks === 'object') return createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  if (/^https?:\/\//.test(jwks)) {
    // jose caches the set, refetches on an unknown kid at most once per cooldown, and times out.
    return createRemoteJWKSet(new URL(jwks), { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 5_000 });
  }
  return createLocalJWKSet(JSON.parse(readFileSync(jwks, 'utf8')) as Parameters<typeof createLocalJWKSet>[0]);
}

function classify(err: unknown): JwtFailure {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) return err.claim === 'nbf' ? 'not_yet_valid' : 'claim_invalid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return 'no_matching_key';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return 'jwks_unavailable';
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid || err instanceof errors.JOSENotSupported) return 'malformed';
  return 'invalid';
}
