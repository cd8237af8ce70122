import { SignJWT } from 'jose';
import type { BulwarkConfig } from '../../config/schema.js';
import type { LocalEndpoint, LocalResponse } from '../../core/stage.js';
import type { EventBus } from '../../events/bus.js';
import type { ApiKeyStore } from './api-key-store.js';
import { KEY_ID_CLAIM } from './key-binding.js';
import type { SigningKeys } from './signing-keys.js';
import type { TokenEndpointGuard } from './token-endpoint-guard.js';

type TokenEndpointConfig = NonNullable<BulwarkConfig['auth']['tokenEndpoint']>;

/** Mints the gateway's own short-lived tokens (the token endpoint and `bulwark token`). */
export async function mintToken(keys: SigningKeys, cfg: TokenEndpointConfig, claims: { sub: string; roles: readonly string[]; keyId?: string }): Promise<{ token: string; expiresIn: number }> {
  const { kid, privateKey } = await keys.current();
  const expiresIn = Math.floor(cfg.ttl / 1000);
  // A token traded for a key names it, so verifying the token checks the key (key-binding.ts).
  const token = await new SignJWT({ roles: [...claims.roles], ...(claims.keyId !== undefined ? { [KEY_ID_CLAIM]: claims.keyId } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(cfg.issuer)
    .setAudience(cfg.audience)
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(`${expiresIn}s`)
    .sign(privateKey);
  return { token, expiresIn };
}

function oauthError(status: number, error: string, description: string): LocalResponse {
  // RFC 6749 §5.2 shape, which OAuth client libraries parse.
  return { status, headers: { 'cache-control': 'no-store', ...(status === 401 ? { 'www-authenticate': 'Basic realm="bulwark"' } : {}) }, body: JSON.stringify({ error, error_description: description }) };
}

/**
 * OAuth2 client credentials (RFC 6749 §4.4): a client presents its API key (in the API-key header,
 * or as the password of HTTP Basic auth) with `grant_type=client_credentials` and receives a JWT
 * carrying the key's roles, signed by the gateway's current key. The public keys are published at
 * `jwksPath`.
 */
export function tokenEndpoints(cfg: TokenEndpointConfig, deps: { keys: SigningKeys; apiKeys: ApiKeyStore | undefined; apiKeyHeader: string; events: EventBus; guard: TokenEndpointGuard }): LocalEndpoint[] {
  return [
    {
      method: 'POST',
      path: cfg.path,
      maxBodyBytes: 4096,
      async handle(req) {
        const subject = { requestId: req.requestId, method: 'POST', path: cfg.path, sourceIp: req.clientIp };
        // Banned or throttled addresses are refused before the body or the key is looked at.
        const refused = await deps.guard.refusal(req.clientIp);
        if (refused) return refused;
        const fail = async (status: number, error: string, reason: string, description: string) => {
          deps.events.emit({ action: 'auth.failure', severity: 'medium', outcome: 'failure', reason, code: 'AUTH_REQUIRED', status, ...subject });
          // Only a presented credential that fails is a guess; a malformed request is not, and
          // counting it would let anyone behind the same address lock the others out.
          if (status === 401 && reason !== 'api_keys_disabled') await deps.guard.failed(req.clientIp, subject);
          return oauthError(status, error, description);
        };
        const ct = String(req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
        let params: URLSearchParams;
        if (ct === 'application/x-www-form-urlencoded') params = new URLSearchParams(req.body.toString('utf8'));
        else if (ct === 'application/json') {
          try {
            const v = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
            params = new URLSearchParams(Object.entries(v).filter(([, x]) => typeof x === 'string') as Array<[string, string]>);
          } catch {
            return fail(400, 'invalid_request', 'bad_body', 'The body is not valid JSON.');
          }
        } else return fail(400, 'invalid_request', 'bad_content_type', 'Use application/x-www-form-urlencoded.');
        if (params.get('grant_type') !== 'client_credentials') return fail(400, 'unsupported_grant_type', 'grant_type', 'Only client_credentials is supported.');
        if (params.has('client_secret') || params.has('api_key')) return fail(400, 'invalid_request', 'credential_in_body', 'Send the API key in a header, not in the body.');
        if (!deps.apiKeys) return fail(401, 'invalid_client', 'api_keys_disabled', 'API keys are not enabled.');

        const keyLines: string[] = [];
        const authLines: string[] = [];
        for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
          const name = (req.rawHeaders[i] ?? '').toLowerCase();
          if (name === deps.apiKeyHeader) keyLines.push(req.rawHeaders[i + 1] ?? '');
          else if (name === 'authorization') authLines.push(req.rawHeaders[i + 1] ?? '');
        }
        if (keyLines.length + authLines.length !== 1) return fail(401, 'invalid_client', 'credential_count', 'Present exactly one client credential.');
        let presented = keyLines[0];
        if (presented === undefined) {
          const m = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(authLines[0] ?? '');
          const decoded = m ? Buffer.from(m[1] as string, 'base64').toString('utf8') : '';
          presented = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : undefined;
          if (presented === undefined) return fail(401, 'invalid_client', 'bad_basic', 'Use HTTP Basic with the API key as the password.');
        }
        const check = await deps.apiKeys.check(presented);
        if (!check.ok) return fail(401, 'invalid_client', `api_key_${check.reason}`, 'The client credential is not valid.');
        const minted = await mintToken(deps.keys, cfg, { sub: `apikey:${check.record.id}`, roles: check.record.roles, keyId: check.record.id });
        deps.events.emit({ action: 'auth.success', severity: 'low', outcome: 'success', reason: 'token_issued', userId: `apikey:${check.record.id}`, ...subject });
        return {
          status: 200,
          headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
          body: JSON.stringify({ access_token: minted.token, token_type: 'Bearer', expires_in: minted.expiresIn }),
        };
      },
    },
    {
      method: 'GET',
      path: cfg.jwksPath,
      maxBodyBytes: 0,
      async handle() {
        return { status: 200, headers: { 'cache-control': 'public, max-age=300' }, body: JSON.stringify(await deps.keys.jwks()) };
      },
    },
  ];
}
