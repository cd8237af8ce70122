import type { BulwarkConfig } from '../../config/schema.js';
import type { ClientCertificate, Identity, RequestContext } from '../../core/context.js';
import { defineStage } from '../../core/stage.js';
import { CONTINUE, deny, type Verdict } from '../../core/verdict.js';
import type { Store } from '../../stores/store.js';
import type { ApiKeyStore } from './api-key-store.js';
import { apiKeyStoreFor } from './api-key-pepper.js';
import { bearerToken, readCredentials, rolesFromClaim, scopesFromPayload } from './credentials.js';
import { createJwtVerifier, type JwtVerifier } from './jwt-verifier.js';
import { createKeyBinding, type KeyBinding } from './key-binding.js';
import { createSigningKeys, type SigningKeys } from './signing-keys.js';
import { tokenEndpoints } from './token-endpoint.js';
import { TokenEndpointGuard } from './token-endpoint-guard.js';
import type { EventBus } from '../../events/bus.js';
import { isRoleName, isSubjectValue } from '../../http/identity-values.js';

interface Shared {
  jwt: JwtVerifier | undefined;
  keys: ApiKeyStore | undefined;
  apiKeyHeader: string;
  signing: SigningKeys | undefined;
  /** The gateway's own issuer, whose tokens are bound to the API keys they were traded for. */
  ownIssuer: string | undefined;
  binding: KeyBinding;
  /** Last `lastUsedAt` write per key id: at most one store write a minute per key. */
  touched: Map<string, number>;
}

// One verifier and key store per loaded config, shared by every route's stage instance.
const shared = new WeakMap<BulwarkConfig, Shared>();

export function sharedFor(config: BulwarkConfig, store: Store): Shared {
  let s = shared.get(config);
  if (!s) {
    const declared = (config.auth.apiKeys?.keys ?? []).map((k) => ({ id: k.id, name: k.name ?? k.id, roles: k.roles, hash: k.hash, createdAt: new Date(0).toISOString() }));
    const te = config.auth.tokenEndpoint;
    const signing = te ? createSigningKeys(store, { rotateMs: te.rotateKeys, ttlMs: te.ttl }) : undefined;
    const own = te && signing ? { issuer: te.issuer, audience: te.audience, getKey: signing.getKey, maxLifetimeMs: te.ttl } : undefined;
    const keys = config.auth.apiKeys ? apiKeyStoreFor(config, store, declared) : undefined;
    s = {
      signing,
      ownIssuer: own?.issuer,
      binding: createKeyBinding(keys),
      jwt: config.auth.jwt?.length || own ? createJwtVerifier(config.auth.jwt ?? [], own) : undefined,
      keys,
      apiKeyHeader: config.auth.apiKeys?.header ?? 'x-api-key',
      touched: new Map(),
    };
    shared.set(config, s);
  }
  return s;
}

const CHALLENGE = 'Bearer realm="bulwark"';

function unauthorized(reason: string, detail: string, invalid: boolean): Verdict {
  return deny('AUTH_REQUIRED', detail, {
    headers: { 'www-authenticate': invalid ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE },
    event: { action: reason === 'mtls_untrusted' ? 'tls.client_rejected' : 'auth.failure', severity: 'medium', reason },
  });
}

type MtlsConfig = NonNullable<BulwarkConfig['auth']['mtls']>;

/** The certificate's identity per `auth.mtls.identity`, and the roles the config maps it to. */
export function certificateIdentity(cert: ClientCertificate, cfg: MtlsConfig | undefined): Identity | undefined {
  const mode = cfg?.identity ?? 'san-uri';
  const subject = mode === 'san-uri' ? cert.sanUris[0] : mode === 'san-dns' ? cert.sanDns[0] : cert.subjectCN;
  if (!subject) return undefined;
  // Own keys only: a certificate naming `constructor` or `__proto__` must not read Object.prototype.
  return { subject, method: 'mtls', roles: cfg && Object.hasOwn(cfg.roles, subject) ? (cfg.roles[subject] ?? []) : [] };
}

/**
 * identify: verifies the credential(s) a route accepts and sets ctx.identity. A request carrying a
 * credential it cannot verify is refused even when another credential is valid: an invalid
 * credential never rides along with a valid one (G-3.3).
 */
export const authStage = defineStage({
  name: 'auth',
  endpoints({ config, store, events }) {
    const te = config.auth.tokenEndpoint;
    if (!te) return [];
    const s = sharedFor(config, store);
    return tokenEndpoints(te, { keys: s.signing as SigningKeys, apiKeys: s.keys, apiKeyHeader: s.apiKeyHeader.toLowerCase(), events: events as EventBus, guard: new TokenEndpointGuard(store, events as EventBus, config.server.ipv6Prefix) });
  },
  build(route, { config, store, events }) {
    const auth = route.auth;
    if (!auth || auth.public) return undefined;
    const s = sharedFor(config, store);
    // auth.success is sampled (1 in 100 successes): a log line per authenticated request would
    // drown the security events; failures are never sampled.
    let successes = 0;
    const accepted = new Set(auth.all ?? auth.any ?? ['jwt', 'apiKey']);
    const mtlsConfig = config.auth.mtls;
    const requireAll = auth.all !== undefined;
    // A key revoked in this process (an alert action) ends its tokens here at once, not after the cache window.
    const close = s.ownIssuer === undefined ? undefined : events.subscribe((e) => {
      const id = e.bulwark['keyId'];
      if (typeof id === 'string') s.binding.forget(id);
    }, ['key.revoked']);
    return {
      name: 'auth',
      phase: 'identify',
      failClosed: true,
      ...(close ? { close } : {}),
      async onRequest(ctx: RequestContext): Promise<Verdict> {
        const creds = readCredentials(ctx.rawHeaders, s.apiKeyHeader);
        if (creds.authorization.length > 1 || creds.apiKey.length > 1) return unauthorized('duplicate_credentials', 'Send one credential of each kind.', true);
        const presentedJwt = creds.authorization[0];
        const presentedKey = creds.apiKey[0];
        const identities: Identity[] = [];
        // A certificate counts when the route takes mtls and, on an `any` route, no header credential
        // was sent (a client's certificate is always there; a header is a deliberate choice).
        const useCert = accepted.has('mtls') && (requireAll || (presentedJwt === undefined && presentedKey === undefined));
        if (useCert) {
          const cert = ctx.clientCertificate;
          if (cert) {
            if (!cert.authorized) return unauthorized('mtls_untrusted', 'The client certificate is not trusted.', true);
            const id = certificateIdentity(cert, mtlsConfig);
            if (!id) return unauthorized('mtls_no_identity', 'The client certificate carries no usable identity.', true);
            identities.push(id);
          }
        }
        if (presentedJwt === undefined && presentedKey === undefined && identities.length === 0) return unauthorized('missing_credentials', 'A credential is required.', false);
        if (!requireAll && presentedJwt !== undefined && presentedKey !== undefined) return unauthorized('ambiguous_credentials', 'Send one credential, not several.', true);

        if (presentedJwt !== undefined) {
          if (!accepted.has('jwt') || !s.jwt) return unauthorized('method_not_accepted', 'This route does not accept bearer tokens.', true);
          const token = bearerToken(presentedJwt);
          if (token === undefined) return unauthorized('unsupported_scheme', 'Use the Bearer scheme.', true);
          const r = await s.jwt.verify(token);
          if (!r.ok) return unauthorized(`jwt_${r.reason}`, 'The bearer token is not valid.', true);
          if (r.issuer === s.ownIssuer) {
            const bound = await s.binding.check(r.payload);
            if (!bound.ok) return unauthorized(`jwt_${bound.reason}`, 'The bearer token is not valid.', true);
          }
          const roles = rolesFromClaim(r.payload[r.rolesClaim]);
          identities.push({ subject: r.subject, method: 'jwt', roles: roles.roles, scopes: scopesFromPayload(r.payload as Record<string, unknown>), issuer: r.issuer });
        }
        if (presentedKey !== undefined) {
          if (!accepted.has('apiKey') || !s.keys) return unauthorized('method_not_accepted', 'This route does not accept API keys.', true);
          const r = await s.keys.check(presentedKey);
          if (!r.ok) return unauthorized(`api_key_${r.reason}`, 'The API key is not valid.', true);
          identities.push({ subject: `apikey:${r.record.id}`, method: 'apiKey', roles: r.record.roles });
          const last = s.touched.get(r.record.id) ?? 0;
          if (Date.now() - last > 60_000) {
            s.touched.set(r.record.id, Date.now());
            void s.keys.touch(r.record.id).catch(() => undefined);
          }
        }
        if (requireAll && [...accepted].some((m) => !identities.some((i) => i.method === m))) {
          return unauthorized('missing_credentials', `This route requires ${[...accepted].join(' and ')}.`, false);
        }
        // What goes upstream is made of these values: one a header cannot carry as exactly itself
        // (a comma splitting a role, CR/LF, edge spaces, non-ASCII) is the credential's fault.
        for (const id of identities) {
          if (!isSubjectValue(id.subject)) return unauthorized('bad_subject', 'The credential names a subject the gateway cannot forward.', true);
          // `apikey:<id>` is an API key's identity (what key binding, budgets and revokeKey act on):
          // only the key itself or a token the gateway minted may claim it.
          if (id.subject.startsWith('apikey:') && id.method !== 'apiKey' && !(id.method === 'jwt' && id.issuer !== undefined && id.issuer === s.ownIssuer)) {
            return unauthorized('bad_subject', 'The credential names a subject the gateway cannot forward.', true);
          }
          // 403: the credential is genuine, it grants nothing usable (a lookalike role, G-3.1).
          if (!id.roles.every(isRoleName)) return deny('FORBIDDEN', 'The credential carries a role the gateway cannot forward.', { event: { action: 'auth.failure', severity: 'medium', reason: 'bad_roles' } });
        }
        // With several required credentials, roles are what they all agree on (never a union). A
        // certificate beside a token is a second factor: the token's roles count.
        const bearers = identities.length > 1 ? identities.filter((i) => i.method !== 'mtls') : identities;
        const first = (bearers[0] ?? identities[0]) as Identity;
        const roles = bearers.length <= 1 ? first.roles : first.roles.filter((r) => bearers.every((i) => i.roles.includes(r)));
        ctx.identity = { ...first, roles };
        ctx.upstreamHeaders['x-bulwark-subject'] = first.subject;
        ctx.upstreamHeaders['x-bulwark-roles'] = roles.join(',');
        if (successes++ % 100 === 0) {
          events.emit({ action: 'auth.success', severity: 'low', outcome: 'success', reason: first.method, userId: first.subject, requestId: ctx.id, route: route.name, method: ctx.method, path: ctx.path, sourceIp: ctx.clientIp, details: { sampled: 100 } });
        }
        return CONTINUE;
      },
    };
  },
});

/** authorize: roles (exact, case-sensitive) and scopes the route requires. */
export const authzStage = defineStage({
  name: 'authz',
  build(route) {
    const auth = route.auth;
    if (!auth || auth.public || (!auth.roles?.length && !auth.scopes?.length)) return undefined;
    const roles = new Set(auth.roles ?? []);
    const scopes = auth.scopes ?? [];
    return {
      name: 'authz',
      phase: 'authorize',
      failClosed: true,
      onRequest(ctx: RequestContext): Verdict {
        const id = ctx.identity;
        const forbidden = (reason: string) => deny('FORBIDDEN', 'The credential does not grant access to this route.', { event: { action: 'authz.denied', severity: 'medium', reason } });
        if (!id) return forbidden('no_identity');
        if (roles.size > 0 && !id.roles.some((r) => roles.has(r))) return forbidden('role');
        if (scopes.length > 0 && !scopes.every((sc) => id.scopes?.includes(sc))) return forbidden('scope');
        return CONTINUE;
      },
    };
  },
});
