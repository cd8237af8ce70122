import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { createAdmission, type Admission } from './admission.js';
import type { BulwarkConfig } from '../config/schema.js';
import { DEFAULT_FORWARD_REQUEST_HEADERS, DEFAULT_FORWARD_RESPONSE_HEADERS, compileForwardAllowlist } from '../http/header-policy.js';

type UpstreamConfig = BulwarkConfig['upstreams'][string];

export interface Upstream {
  readonly name: string;
  readonly origin: string;
  /** Path prefix of the upstream URL, without a trailing slash ('' for none). */
  readonly basePath: string;
  readonly pool: Pool;
  /** Bounded admission in front of the pool (`connections` at once, `queue` waiting). */
  readonly admission: Admission;
  /** Headers the config injects (provider keys). Never shown to clients or in events. */
  readonly injectHeaders: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly forwardRequestHeaders: ReadonlySet<string>;
  readonly forwardResponseHeaders: ReadonlySet<string>;
  close(): Promise<void>;
}

/** One undici pool per upstream, built at load; TLS material is read once here. */
export function createUpstream(name: string, cfg: UpstreamConfig): Upstream {
  const url = new URL(cfg.url);
  const tls = cfg.tls;
  const connect = {
    timeout: cfg.connectTimeout,
    ...(tls?.ca ? { ca: readFileSync(tls.ca) } : {}),
    ...(tls?.cert ? { cert: readFileSync(tls.cert) } : {}),
    ...(tls?.key ? { key: readFileSync(tls.key) } : {}),
    ...(tls?.servername ? { servername: tls.servername } : {}),
    // Never configurable: an upstream whose certificate cannot be verified is unreachable.
    rejectUnauthorized: true,
  };
  const pool = new Pool(url.origin, {
    connections: cfg.connections,
    pipelining: 1,
    keepAliveTimeout: 4_000,
    headersTimeout: cfg.timeout,
    bodyTimeout: cfg.timeout,
    connect,
  });
  const forward = compileForwardAllowlist([...DEFAULT_FORWARD_REQUEST_HEADERS, ...cfg.forwardHeaders]);
  if (forward.refused.length > 0) {
    throw new Error(`upstreams.${name}.forwardHeaders: ${forward.refused.map((r) => r.name).join(', ')} can never be forwarded`);
  }
  const injectHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg.headers)) injectHeaders[k.toLowerCase()] = v;
  return {
    name,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    pool,
    admission: createAdmission({ slots: cfg.connections, maxQueued: cfg.queue.max, queueTimeoutMs: cfg.queue.timeout }),
    injectHeaders,
    timeoutMs: cfg.timeout,
    forwardRequestHeaders: forward.allow,
    forwardResponseHeaders: new Set([...DEFAULT_FORWARD_RESPONSE_HEADERS, ...cfg.responseHeaders.map((h) => h.toLowerCase())]),
    async close() {
      await pool.close();
    },
  };
}
