import { BlockList, isIP } from 'node:net';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { formatPath } from './config-error.js';
import type { BulwarkConfig } from './schema.js';
import type { RouteConfig } from './schema-route.js';
import { parseListen } from './units.js';

// Posture lint: settings that validate and run, but leave a door open. `bulwark check` prints
// these findings after validation and fails on `high` ones (docs/operations.md, "Posture lint").
// Messages never contain a secret value: only its length or shape.

export type Severity = 'low' | 'medium' | 'high';

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high'];

export type FindingCode =
  | 'ROUTE_NO_AUTH'
  | 'ROUTE_PUBLIC'
  | 'ROUTE_NO_RATE_LIMIT'
  | 'CATCH_ALL_PATH'
  | 'MONITOR_MODE'
  | 'ROUTE_FAIL_OPEN'
  | 'ROUTE_PASSTHROUGH_BODY'
  | 'ROUTE_KIND_MISMATCH'
  | 'LLM_NO_INJECTION_SCREEN'
  | 'LLM_NO_OUTPUT_REDACTION'
  | 'LLM_NO_TOKEN_BUDGET'
  | 'LLM_NO_MAX_TOKENS'
  | 'PLAIN_HTTP_PUBLIC'
  | 'TRUSTED_PROXY_ANY'
  | 'ADMIN_PUBLIC'
  | 'ADMIN_NO_AUTH'
  | 'WEAK_SECRET'
  | 'UPSTREAM_PLAIN_HTTP'
  | 'JWKS_PLAIN_HTTP'
  | 'SINK_PLAIN_HTTP'
  | 'REDIS_PLAIN_TEXT'
  | 'REDIS_FAIL_OPEN'
  | 'INCLUDE_PROMPTS';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** Key path in the config, e.g. `routes[2].auth` (the key may be absent: that is the finding). */
  path: string;
  /** 1-based position of the key (or of its nearest present ancestor) when the config came from text. */
  line?: number;
  column?: number;
  message: string;
}

export type ConfigPath = ReadonlyArray<string | number>;
/** Position of a key path in the config text, or of its nearest ancestor that is present. */
export type Locate = (path: ConfigPath) => { line: number; column: number } | undefined;

/** Kinds whose requests carry prompts and whose answers are model output. */
const GENERATIVE_KINDS: ReadonlySet<string> = new Set(['openai-chat', 'openai-completions', 'anthropic-messages']);
/** Kinds billed in model tokens. */
const TOKEN_KINDS: ReadonlySet<string> = new Set([...GENERATIVE_KINDS, 'openai-embeddings']);
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Static segments that only name an API version or namespace, not a resource. */
const PREFIX_SEGMENT = /^(v\d+[a-z0-9.]*|api|apis|openai|anthropic)$/i;
/** LLM endpoints that have a route kind of their own. */
const LLM_ENDPOINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\/chat\/completions$/, 'openai-chat'],
  [/\/completions$/, 'openai-completions'],
  [/\/embeddings$/, 'openai-embeddings'],
  [/\/messages$/, 'anthropic-messages'],
];

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

export function severityAtLeast(s: Severity, min: Severity): boolean {
  return SEVERITY_RANK[s] >= SEVERITY_RANK[min];
}

/** Highest severity first, then by position in the file. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

export function lintPosture(config: BulwarkConfig, locate?: Locate): Finding[] {
  const out: Finding[] = [];
  const add = (code: FindingCode, severity: Severity, path: ConfigPath, message: string) => {
    const at = locate?.(path);
    out.push({ code, severity, path: formatPath(path), ...(at ? { line: at.line, column: at.column } : {}), message });
  };

  // --- listeners -------------------------------------------------------------------------------
  const { host } = parseListen(config.server.listen);
  const dataScope = hostScope(host);
  if (!config.server.tls && dataScope !== 'loopback') {
    add('PLAIN_HTTP_PUBLIC', dataScope === 'private' ? 'medium' : 'high', ['server', 'listen'],
      `plain HTTP on ${describeScope(host, dataScope)}: API keys, tokens and prompts cross the network unencrypted (set server.tls, or listen on 127.0.0.1 behind a TLS-terminating proxy)`);
  }
  config.server.trustedProxies.forEach((cidr, i) => {
    if (/\/0+$/.test(cidr.trim()) || /^0\.0\.0\.0\/0\.0\.0\.0$/.test(cidr.trim())) {
      add('TRUSTED_PROXY_ANY', 'high', ['server', 'trustedProxies', i],
        `${cidr} trusts X-Forwarded-For from every peer: any client can pick its own address and step around ip rate limits and bans (list only your proxies)`);
    }
  });

  if (config.admin) {
    const admin = config.admin;
    const { host: adminHost } = parseListen(admin.listen);
    const scope = hostScope(adminHost);
    if (scope !== 'loopback') {
      add('ADMIN_PUBLIC', scope === 'private' ? 'medium' : 'high', ['admin', 'listen'],
        `admin API on ${describeScope(adminHost, scope)}: whoever reaches it can read events and change keys and bans (listen on 127.0.0.1 or a management network)`);
    }
    if (admin.token === undefined && admin.clientCa === undefined) {
      add('ADMIN_NO_AUTH', 'high', ['admin'], 'admin API without admin.token or admin.clientCa: every caller that reaches it is trusted');
    }
    if (admin.token !== undefined) {
      const weak = weakness(admin.token, 32);
      if (weak) add('WEAK_SECRET', 'high', ['admin', 'token'], `admin token ${weak} (use at least 32 random characters, e.g. \`openssl rand -hex 32\`)`);
    }
  }

  // --- state store -----------------------------------------------------------------------------
  if (config.state.store === 'redis') {
    const redis = config.state.redis;
    if (redis.url.startsWith('redis://')) {
      const scope = urlScope(redis.url);
      if (scope !== 'loopback') {
        add('REDIS_PLAIN_TEXT', scope === 'private' ? 'medium' : 'high', ['state', 'redis', 'url'],
          'redis:// to another host: the store holds the API-key pepper and token signing keys, and they cross the network unencrypted (use rediss://)');
      }
    }
    if (redis.onError === 'allow') {
      add('REDIS_FAIL_OPEN', 'medium', ['state', 'redis', 'onError'], 'while Redis is unreachable, rate limits, token budgets and bans are skipped (use local or deny)');
    }
  }

  // --- upstreams -------------------------------------------------------------------------------
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    const plain = plainHttpScope(upstream.url);
    if (plain) {
      add('UPSTREAM_PLAIN_HTTP', plain === 'private' ? 'medium' : 'high', ['upstreams', name, 'url'],
        `plain HTTP to ${plain === 'private' ? 'a private-network' : 'a remote'} host: prompts, answers and the provider credentials in upstreams.${name}.headers travel unencrypted (use https://)`);
    }
  }

  // --- auth ------------------------------------------------------------------------------------
  config.auth.jwt?.forEach((issuer, i) => {
    if (typeof issuer.jwks === 'string') {
      const plain = plainHttpScope(issuer.jwks);
      if (plain) {
        add('JWKS_PLAIN_HTTP', plain === 'private' ? 'medium' : 'high', ['auth', 'jwt', i, 'jwks'],
          'JWKS fetched over plain HTTP: whoever can alter that traffic can substitute signing keys and mint accepted tokens (use https:// or a file)');
      }
    }
    if (issuer.secret !== undefined) {
      const weak = weakness(issuer.secret, 0);
      if (weak) add('WEAK_SECRET', 'high', ['auth', 'jwt', i, 'secret'], `HS secret ${weak}`);
      else if (Buffer.byteLength(issuer.secret) < 64) {
        add('WEAK_SECRET', 'low', ['auth', 'jwt', i, 'secret'],
          `HS secret of ${Buffer.byteLength(issuer.secret)} bytes: enough for the hash if it is random, but 64 random bytes (or asymmetric keys via jwks) leave no doubt`);
      }
    }
  });

  // --- routes ----------------------------------------------------------------------------------
  config.routes.forEach((route, i) => lintRoute(route, ['routes', i], add));

  // --- events ----------------------------------------------------------------------------------
  config.events.sinks.forEach((sink, i) => {
    if (sink.type !== 'webhook') return;
    const plain = plainHttpScope(sink.url);
    if (plain) {
      add('SINK_PLAIN_HTTP', plain === 'private' ? 'medium' : 'high', ['events', 'sinks', i, 'url'],
        'security events sent over plain HTTP to another host: anyone on the path reads them (use https://)');
    }
    if (sink.secret === undefined) {
      add('WEAK_SECRET', 'medium', ['events', 'sinks', i], 'webhook without a secret: the receiver cannot tell real alerts from forged ones (set secret)');
    } else {
      const weak = weakness(sink.secret, 32);
      if (weak) add('WEAK_SECRET', 'high', ['events', 'sinks', i, 'secret'], `webhook secret ${weak} (use at least 32 random characters)`);
    }
  });
  if (config.events.includePrompts) {
    add('INCLUDE_PROMPTS', 'low', ['events', 'includePrompts'], 'full prompts (personal data, pasted secrets) are written to every event sink; keep it off outside an investigation');
  }
  return out;
}

type Add = (code: FindingCode, severity: Severity, path: ConfigPath, message: string) => void;

function lintRoute(route: RouteConfig, at: ConfigPath, add: Add): void {
  const p = (...rest: Array<string | number>): ConfigPath => [...at, ...rest];
  const llm = GENERATIVE_KINDS.has(route.kind);

  if (!route.auth) {
    add('ROUTE_NO_AUTH', 'high', p('auth'), 'no auth: anyone who reaches the gateway can call this route (set auth, or auth.public: true to say it is meant)');
  } else if (route.auth.public) {
    add('ROUTE_PUBLIC', llm ? 'medium' : 'low', p('auth', 'public'),
      llm ? 'declared public: anyone can spend this model\'s budget; keep it behind rate and token limits' : 'declared public: open to anyone by choice (listed so a review sees it)');
  }
  if (!route.rateLimit || route.rateLimit.length === 0) {
    add('ROUTE_NO_RATE_LIMIT', 'medium', p('rateLimit'), 'no rate limit: nothing bounds requests, tokens or concurrency per client (add rateLimit rules)');
  }
  const catchAll = catchAllReason(route.match.path);
  if (catchAll) add('CATCH_ALL_PATH', 'high', p('match', 'path'), `${route.match.path} ${catchAll}: endpoints nobody reviewed reach the upstream (list each endpoint as a route)`);
  if (route.mode === 'monitor') add('MONITOR_MODE', 'medium', p('mode'), 'mode monitor: every check runs and is logged, nothing is blocked (set mode: enforce once the logs look right)');
  if (route.onError === 'allow') add('ROUTE_FAIL_OPEN', 'medium', p('onError'), 'onError allow: a check that fails (store down, detector error) lets the request through');

  if (route.kind === 'passthrough' && route.match.methods.some((m) => BODY_METHODS.has(m))) {
    add('ROUTE_PASSTHROUGH_BODY', 'low', p('kind'), 'kind passthrough forwards request bodies without JSON parsing or screening (use a JSON kind if the body is JSON)');
  }
  if (route.kind === 'passthrough' || route.kind === 'json') {
    const expected = LLM_ENDPOINTS.find(([re]) => re.test(route.match.path))?.[1];
    if (expected) {
      add('ROUTE_KIND_MISMATCH', 'medium', p('kind'), `${route.match.path} looks like an ${expected} endpoint but kind is ${route.kind}: prompts are not screened the LLM way (set kind: ${expected})`);
    }
  }

  if (llm) {
    const pi = route.input?.promptInjection;
    if (!pi) add('LLM_NO_INJECTION_SCREEN', 'medium', p('input', 'promptInjection'), 'LLM route without prompt-injection screening (set input.promptInjection: { action: block })');
    else if (pi.action === 'log') add('LLM_NO_INJECTION_SCREEN', 'medium', p('input', 'promptInjection', 'action'), 'prompt injection is only logged: injected prompts reach the model (use block, or flag)');

    const out = route.output;
    if (!out?.redact || out.redact.length === 0) {
      add('LLM_NO_OUTPUT_REDACTION', 'medium', p('output', 'redact'), 'LLM answers are not checked for secrets or personal data (set output.redact: [secrets, pii])');
    } else if (out.onMatch === 'log') {
      add('LLM_NO_OUTPUT_REDACTION', 'medium', p('output', 'onMatch'), 'onMatch log: secrets and personal data found in answers are passed on (use redact or block)');
    } else if (!out.redact.some((c) => c === 'secrets' || c.startsWith('secrets.'))) {
      add('LLM_NO_OUTPUT_REDACTION', 'low', p('output', 'redact'), 'no secrets class is redacted: a key leaked from the system prompt or context passes (add secrets)');
    }
    if (route.input?.maxTokens === undefined) {
      // A budget reserves the request's cap: with none (Anthropic requires one), it reserves only the prompt.
      if (route.kind !== 'anthropic-messages' && route.rateLimit?.some((r) => r.tokens !== undefined)) {
        add('LLM_NO_MAX_TOKENS', 'medium', p('input', 'maxTokens'), 'tokens rule without input.maxTokens: a request that leaves its cap out reserves only its prompt, and may spend far past the budget');
      } else add('LLM_NO_MAX_TOKENS', 'low', p('input', 'maxTokens'), 'no input.maxTokens: a client may ask for the model\'s largest answer in one request');
    }
  }
  if (TOKEN_KINDS.has(route.kind) && !route.rateLimit?.some((r) => r.tokens !== undefined)) {
    add('LLM_NO_TOKEN_BUDGET', 'low', p('rateLimit'), 'no tokens rule: request limits do not bound model spend (add { by: identity, tokens: N, per: 1d })');
  }
}

/** Why a route path covers a whole namespace, or undefined. Exported for tests. */
export function catchAllReason(path: string): string | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  const isWild = (s: string) => s.startsWith(':') || s.startsWith('*') || s.includes('*');
  const first = segments.findIndex(isWild);
  if (first === -1) return undefined;
  if (segments.slice(first).some((s) => s.startsWith('*') || /\*$/.test(s))) return 'ends in a wildcard that matches any depth';
  const prefix = segments.slice(0, first);
  if (prefix.length === 0) return 'matches every path at the root';
  if (prefix.every((s) => PREFIX_SEGMENT.test(s))) return `matches every endpoint under /${prefix.join('/')}`;
  return undefined;
}

type Scope = 'loopback' | 'private' | 'public' | 'any';

const PRIVATE = new BlockList();
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addSubnet('169.254.0.0', 16, 'ipv4');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');

/** Where an address or host name points, as far as the config alone can tell. */
export function hostScope(rawHost: string): Scope {
  let host = rawHost.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '' || host === '0.0.0.0' || host === '::' || host === '*') return 'any';
  if (host.startsWith('::ffff:') && isIP(host.slice(7)) === 4) host = host.slice(7);
  const family = isIP(host);
  if (family === 4) {
    if (host.startsWith('127.')) return 'loopback';
    return PRIVATE.check(host, 'ipv4') ? 'private' : 'public';
  }
  if (family === 6) {
    if (host === '::1') return 'loopback';
    return PRIVATE.check(host, 'ipv6') ? 'private' : 'public';
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  // Single-label names (docker, compose, k8s services) and reserved internal suffixes.
  if (!host.includes('.') || /\.(internal|local|lan|home\.arpa|svc|cluster\.local)$/.test(host)) return 'private';
  return 'public';
}

function urlScope(url: string): Scope {
  try {
    return hostScope(new URL(url).hostname);
  } catch {
    return 'public';
  }
}

/** The scope of a plain-HTTP URL's host when it is not loopback; undefined for https or loopback. */
function plainHttpScope(url: string): 'private' | 'public' | undefined {
  if (!/^http:\/\//i.test(url)) return undefined;
  const scope = urlScope(url);
  if (scope === 'loopback') return undefined;
  return scope === 'private' ? 'private' : 'public';
}

function describeScope(host: string, scope: Scope): string {
  if (scope === 'any') return `${host} (every interface)`;
  if (scope === 'private') return `${host} (a private network)`;
  return host;
}

/** Why a secret is weak, without saying what it is; undefined when it passes. */
function weakness(secret: string, minChars: number): string | undefined {
  if (secret.length < minChars) return `is ${secret.length} characters, shorter than ${minChars}`;
  if (new Set(secret).size < 8) return 'uses fewer than 8 distinct characters';
  if (/change.?me|example|placeholder|dummy|xxxx|password|secret|^test/i.test(secret)) return 'looks like a placeholder';
  return undefined;
}

/**
 * A locator over config text (YAML or JSON): the line and column of a key path, or of its nearest
 * present ancestor when the key is absent (a missing key is often the finding). Map entries are
 * located at their key, sequence items at the item.
 */
export function locatorFromText(text: string): Locate {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) return () => undefined;
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  return (path) => {
    let node: unknown = doc.contents;
    let best = (node as Node | null)?.range?.[0];
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
        if (!pair) break;
        best = (pair.key as Node).range?.[0] ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item: unknown = node.items[seg];
        if (!item) break;
        node = item;
        best = (item as Node).range?.[0] ?? best;
      } else break;
    }
    return best === undefined ? undefined : at(best);
  };
}

/** Turns a path string such as `routes[0].rateLimit[1] (tokens)` or `events.sinks[2].chain/rotate` into segments. */
export function parsePathString(path: string): ConfigPath {
  const out: Array<string | number> = [];
  const clean = path.split(' ')[0]?.split('/')[0] ?? '';
  for (const part of clean.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}
