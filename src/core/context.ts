import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../config/schema-route.js';

/** Who the request is, once an identify stage has verified a credential. */
export interface Identity {
  /** Stable subject: JWT `sub`, API key id, or certificate identity. Never the credential itself. */
  readonly subject: string;
  readonly method: 'jwt' | 'apiKey' | 'mtls';
  readonly roles: readonly string[];
  readonly scopes?: readonly string[];
  readonly issuer?: string;
}

/** The client's TLS certificate, when the connection is mutual TLS. */
export interface ClientCertificate {
  /** Chains to a configured client CA (the handshake verified it). */
  readonly authorized: boolean;
  readonly subjectCN: string | undefined;
  readonly sanUris: readonly string[];
  readonly sanDns: readonly string[];
  readonly fingerprint256: string;
}

export type RequestBody =
  | { readonly type: 'none' }
  | { readonly type: 'raw'; readonly bytes: Buffer; readonly contentType: string | undefined }
  /** Parsed JSON: what inspect-request stages read and may modify, and what is re-serialized upstream. */
  | { readonly type: 'json'; value: Record<string, unknown> };

/** How a request ended, for the stages that hold something until then (leases, budgets). */
export interface RequestEnd {
  /** Status sent to the client (499 when the client went away before the answer). */
  readonly status: number;
  /** Whether the request was sent to the upstream. */
  readonly forwarded: boolean;
}

/**
 * The neutral per-request view stages work on. It holds no socket and no node:http objects, so
 * the same stages run behind the Express, Fastify and Hono adapters.
 */
export interface RequestContext {
  readonly id: string;
  /** performance.now() when the request head was parsed. */
  readonly startedAt: number;
  readonly method: string;
  /** Canonical path: what was matched and exactly what is forwarded. */
  readonly path: string;
  readonly query: string | undefined;
  readonly params: Readonly<Record<string, string | undefined>>;
  /** Client request headers (lower-cased names). Read-only: the upstream gets an allowlisted copy. */
  readonly headers: Readonly<IncomingHttpHeaders>;
  /**
   * Every header line as sent, `[name, value, name, value, ...]`. Credentials are read from here:
   * `headers` keeps only the first of repeated singleton fields, which would hide a second
   * Authorization line.
   */
  readonly rawHeaders: readonly string[];
  /** Client address after trusted-proxy resolution: what events report as `source.ip`. */
  readonly clientIp: string;
  /**
   * The client's network (`clientNetwork`: the IPv4 address, or the IPv6 `server.ipv6Prefix`
   * network): what every per-address limit, slot, budget, ban and offence keys by.
   */
  readonly clientNetwork: string;
  /** The TCP peer. */
  readonly peerIp: string;
  /** The client certificate on a TLS connection that presented one (read on first use). */
  readonly clientCertificate: ClientCertificate | undefined;
  readonly route: RouteConfig;
  identity: Identity | undefined;
  body: RequestBody;
  /** Headers stages add to the upstream request (e.g. x-bulwark-subject). */
  readonly upstreamHeaders: Record<string, string>;
  /** Aborted when the client goes away or the gateway gives up on the request. */
  readonly signal: AbortSignal;
  /** Per-request scratch space for stages, keyed by stage name. */
  readonly locals: Map<string, unknown>;
  /**
   * Runs `fn` once when the request is over, however it ended: answered, refused by any later
   * check, failed upstream or abandoned by the client. Hooks run in reverse order of
   * registration and must not throw (a hook that does is ignored: the request is already over).
   */
  onEnd(fn: (end: RequestEnd) => void): void;
}
