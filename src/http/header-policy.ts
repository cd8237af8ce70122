/**
 * Which headers cross the gateway. Both directions are allowlists: a client header is forwarded
 * only when named, and an upstream header reaches the client only when named. On top of that, a
 * fixed deny list guards against a config allowlist that names something dangerous: credentials
 * (the gateway injects its own), identity and client-address claims (the gateway asserts those),
 * framing and hop-by-hop fields (the proxy re-frames), and method/path overrides (routing was
 * decided on the canonical target and must not be re-decided upstream).
 */

// RFC 9110 §5.6.2 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What Node's `res.setHeader` / undici accept in a value. Anything else is either a header
// injection attempt (CR, LF, NUL) or a guaranteed throw half-way through writing a response.
const BAD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

// String#toLowerCase folds the Kelvin sign onto "k", which would let a non-token name such as
// "x-stainless-pac\u212Aage-version" pass as an allowlisted one. Names are ASCII or they are refused.
function asciiLower(value: string): string {
  // toLowerCase is only safe on pure ASCII: it folds the Kelvin sign onto "k". Header names are
  // ASCII tokens, so the fast path is the common one; the per-character path is the fallback.
  if (!NON_ASCII.test(value)) return value.toLowerCase();
  return value.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x20));
}
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Request headers forwarded by default: content negotiation and the provider SDK headers that
 * upstreams need to pick API behaviour. Exact names only; wildcards would let a client invent a
 * header inside a trusted family.
 */
export const DEFAULT_FORWARD_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-language',
  'content-type',
  'user-agent',
  // Not openai-organization / openai-project: with the gateway's provider key they would let a
  // client choose which organization is billed. Add them per upstream (forwardHeaders) if wanted.
  'openai-beta',
  'anthropic-version',
  'anthropic-beta',
  'x-stainless-lang',
  'x-stainless-package-version',
  'x-stainless-os',
  'x-stainless-arch',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-retry-count',
  'x-stainless-timeout',
]);

const NEVER_FORWARD_NAMES: readonly string[] = [
  // Credentials: the gateway authenticates the client and injects upstream credentials itself.
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
  'x-auth-token',
  // Framing and hop-by-hop: the proxy re-frames the body it has inspected.
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'http2-settings',
  'expect',
  // An encoded body would skip the gateway's body inspection.
  'content-encoding',
  // Method and path overrides re-route a request after routing decided on it.
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  'x-original-url',
  'x-rewrite-url',
  'x-original-path',
  'x-envoy-original-path',
  'x-forwarded-prefix',
  // Client address and origin claims: only the gateway may assert these.
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'x-original-host',
  'x-host',
  'forwarded',
  'x-real-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-client-ip',
  // Identity claims that upstream auth proxies trust blindly.
  'x-forwarded-user',
  'x-remote-user',
  'remote-user',
  'x-authenticated-userid',
  // The gateway issues its own request id; a client one would poison correlation.
  'x-request-id',
  // httpoxy: CGI-style upstreams turn `Proxy:` into HTTP_PROXY.
  'proxy',
];

// The exported set is a copy: code that casts it back to Set and mutates it changes what it
// sees, not what isNeverForwarded enforces.
const NEVER_FORWARD = new Set(NEVER_FORWARD_NAMES);

/** Request headers that are never forwarded, whatever the configured allowlist says. */
export const NEVER_FORWARD_REQUEST_HEADERS: ReadonlySet<string> = new Set(NEVER_FORWARD_NAMES);

/** Header families reserved for the gateway and the identity it asserts upstream. */
export const NEVER_FORWARD_REQUEST_HEADER_PREFIXES: readonly string[] = Object.freeze([
  'x-bulwark-',
  'x-gateway-',
  'x-user-',
  'x-consumer-',
]);

const NEVER_FORWARD_PREFIXES = [...NEVER_FORWARD_REQUEST_HEADER_PREFIXES];

/**
 * True when a client must never be able to send `name` upstream (ASCII case-insensitive).
 * A name that is not a token is never forwarded either, so it counts.
 */
export function isNeverForwarded(name: string): boolean {
  if (!TOKEN.test(name)) return true;
  const lower = asciiLower(name);
  if (NEVER_FORWARD.has(lower)) return true;
  return NEVER_FORWARD_PREFIXES.some((p) => lower.startsWith(p));
}

export type AllowlistRefusal = { name: string; why: 'never_forward' | 'not_a_token' };

/**
 * Turns a configured allowlist into the lower-cased set that buildUpstreamRequestHeaders expects,
 * and lists the entries it refused so config loading can fail loudly instead of silently
 * forwarding less than the operator thinks.
 */
export function compileForwardAllowlist(names: Iterable<string>): { allow: ReadonlySet<string>; refused: AllowlistRefusal[] } {
  const allow = new Set<string>();
  const refused: AllowlistRefusal[] = [];
  for (const name of names) {
    if (!TOKEN.test(name)) refused.push({ name, why: 'not_a_token' });
    else if (isNeverForwarded(name)) refused.push({ name, why: 'never_forward' });
    else allow.add(asciiLower(name));
  }
  return { allow, refused };
}

export type DroppedRequestHeaderReason = 'duplicate' | 'never_forward' | 'invalid_value' | 'connection_nominated';

export interface UpstreamRequestHeadersInput {
  /** Node's flat `[name, value, name, value, ...]` list. */
  rawHeaders: readonly string[];
  /** Lower-case header names (see compileForwardAllowlist). */
  forwardAllowlist: ReadonlySet<string>;
  /**
   * Told about allowlisted headers that were not copied. Duplicates are not joined because a
   * join is wrong for fields whose values contain commas and for singleton fields; the first
   * line wins, which is also what Node's `req.headers` keeps for its singleton fields.
   */
  onDropped?: (name: string, why: DroppedRequestHeaderReason) => void;
}

/**
 * The request headers to send upstream: allowlisted, never-forward-free, first line of each.
 * Headers the client named in its own `Connection` header are hop-by-hop for this hop
 * (RFC 9110 §7.6.1) and are dropped even when allowlisted.
 */
export function buildUpstreamRequestHeaders(input: UpstreamRequestHeadersInput): Record<string, string> {
  const { rawHeaders, forwardAllowlist, onDropped } = input;
  const nominated = nominatedInRawConnection(rawHeaders);
  // Plain assignment, no Map: this runs on every request. `__proto__` is a valid token, so it is
  // skipped by name: assigning it would address the prototype, not a header.
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = asciiLower(rawHeaders[i] ?? '');
    if (!forwardAllowlist.has(lower) || lower === '__proto__') continue;
    const value = rawHeaders[i + 1] ?? '';
    // Re-checked here because an allowlist can be built by hand, bypassing compileForwardAllowlist.
    if (isNeverForwarded(lower)) {
      onDropped?.(lower, 'never_forward');
      continue;
    }
    if (nominated !== undefined && nominated.has(lower)) {
      onDropped?.(lower, 'connection_nominated');
      continue;
    }
    if (BAD_VALUE_CHAR.test(value)) {
      onDropped?.(lower, 'invalid_value');
      continue;
    }
    if (out[lower] !== undefined) {
      onDropped?.(lower, 'duplicate');
      continue;
    }
    out[lower] = value;
  }
  return out;
}

/**
 * Names listed in any `Connection` line of a raw header list, ASCII lower-cased; undefined when
 * there are none beyond keep-alive/close (the common case, so no Set is built per request).
 */
function nominatedInRawConnection(rawHeaders: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.length !== 10 || asciiLower(name) !== 'connection') continue;
    named = addConnectionTokens(rawHeaders[i + 1] ?? '', named);
  }
  return named;
}

/** Adds the names a Connection value nominates; keep-alive/close alone nominate nothing worth a Set. */
function addConnectionTokens(value: string, named: Set<string> | undefined): Set<string> | undefined {
  const lowered = asciiLower(value);
  if (lowered === 'keep-alive' || lowered === 'close') return named;
  for (const token of lowered.split(',')) {
    const t = token.replace(/^[ \t]+|[ \t]+$/g, '');
    if (t !== '') (named ??= new Set()).add(t);
  }
  return named;
}

/**
 * Upstream response headers passed to the client by default: content metadata, caching, and the
 * rate-limit headers SDKs use for back-off. Upstream identity (organization, request ids) and
 * cookies stay behind the gateway.
 */
export const DEFAULT_FORWARD_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-language',
  'cache-control',
  'retry-after',
  'vary',
  'etag',
  'last-modified',
  'openai-processing-ms',
  'openai-version',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'anthropic-ratelimit-requests-limit',
  'anthropic-ratelimit-requests-remaining',
  'anthropic-ratelimit-requests-reset',
  'anthropic-ratelimit-tokens-limit',
  'anthropic-ratelimit-tokens-remaining',
  'anthropic-ratelimit-tokens-reset',
]);

const HOP_BY_HOP_NAMES: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
];
const HOP_BY_HOP = new Set(HOP_BY_HOP_NAMES);
const COOKIE_SETTERS = new Set(['set-cookie', 'set-cookie2']);

/** Response headers dropped whatever the allowlist says. */
export const NEVER_FORWARD_RESPONSE_HEADERS: ReadonlySet<string> = new Set([...HOP_BY_HOP_NAMES, ...COOKIE_SETTERS]);

/** Names listed in the upstream's Connection header are hop-by-hop for this hop (RFC 9110 §7.6.1). */
function connectionNominated(headers: Record<string, string | string[] | undefined>): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (const name in headers) {
    if (name.length !== 10 || asciiLower(name) !== 'connection') continue;
    const value = headers[name];
    if (value === undefined) continue;
    for (const line of Array.isArray(value) ? value : [value]) named = addConnectionTokens(line, named);
  }
  return named;
}

/**
 * The upstream response headers to send to the client: allowlisted names only (lower-cased),
 * never cookies or hop-by-hop fields, and never a header with a value Node would refuse to write.
 */
export function filterResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
  allow: ReadonlySet<string>,
): Record<string, string | string[]> {
  const nominated = connectionNominated(headers);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = asciiLower(name);
    if (!allow.has(lower) || lower === '__proto__' || COOKIE_SETTERS.has(lower) || HOP_BY_HOP.has(lower)) continue;
    if (nominated !== undefined && nominated.has(lower)) continue;
    if (!TOKEN.test(lower)) continue;
    // One bad line drops the whole header: forwarding the rest would change its meaning.
    if (typeof value === 'string') {
      if (BAD_VALUE_CHAR.test(value)) continue;
    } else if (value.length === 0 || value.some((v) => BAD_VALUE_CHAR.test(v))) continue;
    const previous = out[lower];
    if (previous === undefined) {
      out[lower] = typeof value === 'string' ? value : [...value];
    } else {
      // Two spellings of one name in a plain object: keep both lines rather than pick one.
      out[lower] = [...(Array.isArray(previous) ? previous : [previous]), ...(Array.isArray(value) ? value : [value])];
    }
  }
  return out;
}
