import { RECOGNIZER_CLASSES } from '../stages/output-guard/recognizers/index.js';
import { userRegexError } from './user-regex.js';
import type { BulwarkConfig } from './schema.js';
import { MAX_TOKEN_FIELDS } from '../kinds/request-schemas.js';

export interface SemanticIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * Rules that span several keys (the schema checks each key alone). Every problem found is
 * reported, so one `bulwark check` run lists them all.
 */
export function checkSemantics(config: BulwarkConfig): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const upstreamNames = Object.keys(config.upstreams);
  const names = new Map<string, number>();
  const limits = config.server.limits;
  if (limits.headersTimeout > limits.requestTimeout) {
    issues.push({ path: ['server', 'limits', 'headersTimeout'], message: 'must not exceed server.limits.requestTimeout' });
  }
  const endpoints = new Map<string, number>();

  if (config.auth.apiKeys?.pepper !== undefined && config.auth.apiKeys.pepperFile !== undefined) issues.push({ path: ['auth', 'apiKeys', 'pepperFile'], message: 'set pepper or pepperFile, not both' });
  const te = config.auth.tokenEndpoint;
  if (te && !config.auth.apiKeys) issues.push({ path: ['auth', 'tokenEndpoint'], message: 'the token endpoint trades API keys for tokens: set auth.apiKeys too' });
  if (te && config.auth.jwt?.some((j) => j.issuer === te.issuer)) issues.push({ path: ['auth', 'tokenEndpoint', 'issuer'], message: `"${te.issuer}" is also a configured auth.jwt issuer` });
  for (const p of te ? [te.path, te.jwksPath] : []) {
    if (config.routes.some((r) => r.match.path === p)) issues.push({ path: ['auth', 'tokenEndpoint'], message: `${p} is also a route path` });
  }
  config.auth.jwt?.forEach((issuer, i) => {
    const hs = issuer.algorithms.filter((a) => a.startsWith('HS'));
    const asym = issuer.algorithms.filter((a) => !a.startsWith('HS'));
    if (issuer.secret !== undefined && issuer.jwks !== undefined) issues.push({ path: ['auth', 'jwt', i], message: 'set either jwks or secret, not both' });
    if (issuer.secret === undefined && issuer.jwks === undefined) issues.push({ path: ['auth', 'jwt', i], message: 'set jwks (asymmetric keys) or secret (HS*)' });
    // Mixing families is how HS/RS confusion starts: a public key used as an HMAC secret.
    if (issuer.secret !== undefined && asym.length > 0) issues.push({ path: ['auth', 'jwt', i, 'algorithms'], message: `${asym.join(', ')} need jwks; a secret only verifies HS* tokens` });
    if (issuer.jwks !== undefined && hs.length > 0) issues.push({ path: ['auth', 'jwt', i, 'algorithms'], message: `${hs.join(', ')} need a secret; never verify HS* with a public key` });
    if (issuer.secret !== undefined) {
      const msg = weakSecret(issuer.secret, hs);
      if (msg) issues.push({ path: ['auth', 'jwt', i, 'secret'], message: msg });
    }
  });

  config.routes.forEach((route, i) => {
    const methods = [...(route.auth?.any ?? []), ...(route.auth?.all ?? [])];
    if (route.auth?.any && route.auth.all) issues.push({ path: ['routes', i, 'auth'], message: 'set any or all, not both' });
    if (methods.includes('jwt') && !config.auth.jwt?.length && !config.auth.tokenEndpoint) issues.push({ path: ['routes', i, 'auth'], message: 'accepts jwt but there is no auth.jwt issuer and no auth.tokenEndpoint' });
    if (methods.includes('apiKey') && !config.auth.apiKeys) issues.push({ path: ['routes', i, 'auth'], message: 'accepts apiKey but auth.apiKeys is not set' });
    if (methods.includes('mtls') && !config.server.tls?.clientCa) issues.push({ path: ['routes', i, 'auth'], message: 'accepts mtls but server.tls.clientCa is not set' });
    if (route.auth && !route.auth.public && methods.length === 0 && !config.auth.jwt?.length && !config.auth.apiKeys && !config.auth.tokenEndpoint) {
      issues.push({ path: ['routes', i, 'auth'], message: 'requires a credential but no auth.jwt or auth.apiKeys is configured' });
    }
    const prev = names.get(route.name);
    if (prev !== undefined) issues.push({ path: ['routes', i, 'name'], message: `duplicate route name (also routes[${prev}])` });
    names.set(route.name, i);

    if (route.upstream === undefined) {
      if (upstreamNames.length !== 1) {
        issues.push({ path: ['routes', i], message: upstreamNames.length === 0 ? 'no upstream is defined in "upstreams"' : 'set "upstream": several upstreams are defined' });
      }
    } else if (!Object.hasOwn(config.upstreams, route.upstream)) {
      issues.push({ path: ['routes', i, 'upstream'], message: `unknown upstream "${route.upstream}" (defined: ${upstreamNames.join(', ') || 'none'})` });
    }

    for (const method of route.match.methods) {
      const key = `${method} ${route.match.path.replace(/:[^/]+/g, ':')}`;
      const other = endpoints.get(key);
      if (other !== undefined && other !== i) issues.push({ path: ['routes', i, 'match'], message: `${method} ${route.match.path} is already matched by routes[${other}]` });
      endpoints.set(key, i);
    }
    if (route.match.path === config.server.healthPath) {
      issues.push({ path: ['routes', i, 'match', 'path'], message: `conflicts with server.healthPath (${config.server.healthPath})` });
    }
    if (route.input?.maxTokens !== undefined && MAX_TOKEN_FIELDS[route.kind].length === 0) {
      // Nothing would cap the answer upstream, yet the token budget would reserve maxTokens as if
      // it did: a budget that looks bounded while one request spends whatever the model allows.
      issues.push({ path: ['routes', i, 'input', 'maxTokens'], message: `maxTokens needs a route kind whose output cap the gateway sets (openai-chat, openai-completions, anthropic-messages); on ${route.kind} it would cap nothing upstream` });
    }
    const input = route.input;
    if (input && route.kind === 'passthrough') {
      for (const key of ['schema', 'maxPromptChars', 'maxMessages', 'promptInjection', 'deny', 'canary', 'fields', 'poisoning'] as const) {
        const v = input[key];
        if (v !== undefined && v !== 'builtin') issues.push({ path: ['routes', i, 'input', key], message: `${key} needs a JSON route kind (passthrough bodies are not parsed; use kind: json)` });
      }
    }
    if (input?.canary === true && route.kind !== 'openai-chat' && route.kind !== 'anthropic-messages') {
      issues.push({ path: ['routes', i, 'input', 'canary'], message: 'a canary is planted in a system prompt: it needs kind openai-chat or anthropic-messages' });
    }
    if (input?.fields !== undefined && route.kind !== 'json') issues.push({ path: ['routes', i, 'input', 'fields'], message: 'fields picks what to screen on kind: json routes; chat kinds screen every message' });
    route.output?.redact?.forEach((cls, j) => {
      if (!RECOGNIZER_CLASSES.includes(cls)) issues.push({ path: ['routes', i, 'output', 'redact', j], message: `unknown class "${cls}" (known: ${RECOGNIZER_CLASSES.join(', ')})` });
    });
    if (route.output?.canary !== undefined && route.output.canary !== 'off' && route.input?.canary !== true) {
      issues.push({ path: ['routes', i, 'output', 'canary'], message: 'checks the canary planted by input.canary: set input.canary: true too' });
    }
    route.input?.deny?.forEach((pattern, j) => {
      const msg = userRegexError(pattern);
      if (msg) issues.push({ path: ['routes', i, 'input', 'deny', j], message: msg });
    });
  });
  return issues;
}

const PLACEHOLDER_SECRETS = new Set(['secret', 'changeme', 'change-me', 'your-256-bit-secret', 'your-secret', 'password', 'supersecret', 'jwt-secret', 'mysecret', 'test', 'default']);
const HASH_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };

/** G-2.6: an HS* secret shorter than the hash, or a well-known placeholder, is refused. */
function weakSecret(secret: string, algorithms: readonly string[]): string | undefined {
  if (PLACEHOLDER_SECRETS.has(secret.toLowerCase()) || /^(.)\1*$/.test(secret)) return 'a well-known placeholder or repeated character is not a secret';
  const need = Math.max(0, ...algorithms.map((a) => HASH_BYTES[a] ?? 0));
  if (Buffer.byteLength(secret) < need) return `must be at least ${need} bytes for ${algorithms.join(', ')}`;
  return undefined;
}

