import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../config/schema-route.js';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ClientCertificate, Identity, RequestBody, RequestContext, RequestEnd } from '../core/context.js';
import type { RequestAbort } from '../proxy/request-abort.js';

/**
 * The RequestContext of a data-port request. A class, so every request shares one shape and the
 * lazily built parts (locals, the AbortSignal) cost nothing when no stage asks for them.
 */
export class HttpRequestContext implements RequestContext {
  readonly id: string;
  readonly startedAt: number;
  readonly method: string;
  readonly path: string;
  readonly query: string | undefined;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<IncomingHttpHeaders>;
  readonly rawHeaders: readonly string[];
  readonly clientIp: string;
  readonly clientNetwork: string;
  readonly peerIp: string;
  readonly route: RouteConfig;
  identity: Identity | undefined = undefined;
  body: RequestBody = NO_BODY;
  readonly upstreamHeaders: Record<string, string> = {};
  readonly #abort: RequestAbort;
  readonly #socket: Socket;
  #cert: ClientCertificate | undefined | null = null;
  #locals: Map<string, unknown> | undefined;
  #endHooks: Array<(end: RequestEnd) => void> | undefined;
  /** Set by the handler just before the request goes upstream. */
  forwarded = false;

  constructor(init: {
    id: string; startedAt: number; method: string; path: string; query: string | undefined;
    params: Readonly<Record<string, string | undefined>>; headers: Readonly<IncomingHttpHeaders>; rawHeaders: readonly string[];
    clientIp: string; clientNetwork: string; peerIp: string; route: RouteConfig; abort: RequestAbort; socket: Socket;
  }) {
    this.#socket = init.socket;
    this.id = init.id;
    this.startedAt = init.startedAt;
    this.method = init.method;
    this.path = init.path;
    this.query = init.query;
    this.params = init.params;
    this.headers = init.headers;
    this.rawHeaders = init.rawHeaders;
    this.clientIp = init.clientIp;
    this.clientNetwork = init.clientNetwork;
    this.peerIp = init.peerIp;
    this.route = init.route;
    this.#abort = init.abort;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get clientCertificate(): ClientCertificate | undefined {
    if (this.#cert === null) this.#cert = readClientCertificate(this.#socket);
    return this.#cert;
  }

  get locals(): Map<string, unknown> {
    return (this.#locals ??= new Map());
  }

  onEnd(fn: (end: RequestEnd) => void): void {
    (this.#endHooks ??= []).push(fn);
  }

  /** Called once by the handler when the request is over. */
  end(status: number): void {
    const hooks = this.#endHooks;
    if (!hooks) return;
    this.#endHooks = undefined;
    const end: RequestEnd = { status, forwarded: this.forwarded };
    for (let i = hooks.length - 1; i >= 0; i--) {
      try {
        (hooks[i] as (end: RequestEnd) => void)(end);
      } catch {
        // A release that throws must not keep the others from running.
      }
    }
  }
}

const NO_BODY: RequestBody = Object.freeze({ type: 'none' });

function readClientCertificate(socket: Socket): ClientCertificate | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (!tls.encrypted || typeof tls.getPeerCertificate !== 'function') return undefined;
  const cert = tls.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const san = parseSubjectAltName(cert.subjectaltname ?? '');
  const cn = cert.subject?.CN;
  return {
    authorized: tls.authorized === true,
    subjectCN: Array.isArray(cn) ? cn[0] : cn,
    sanUris: san.filter((e) => e.type === 'URI').map((e) => e.value),
    sanDns: san.filter((e) => e.type === 'DNS').map((e) => e.value),
    fingerprint256: cert.fingerprint256,
  };
}

/** Node's `subjectaltname`: `TYPE:value, TYPE:value`, values with special characters JSON-quoted. */
function parseSubjectAltName(s: string): Array<{ type: string; value: string }> {
  const out: Array<{ type: string; value: string }> = [];
  const re = /(\w+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null && m[0] !== '') {
    const raw = m[2] ?? '';
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        continue;
      }
    }
    out.push({ type: m[1] ?? '', value });
  }
  return out;
}
