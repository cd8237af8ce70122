import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../config/schema-route.js';
import type { Identity, RequestBody, RequestContext } from '../core/context.js';
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
  readonly peerIp: string;
  readonly route: RouteConfig;
  identity: Identity | undefined = undefined;
  body: RequestBody = NO_BODY;
  readonly upstreamHeaders: Record<string, string> = {};
  readonly #abort: RequestAbort;
  #locals: Map<string, unknown> | undefined;

  constructor(init: {
    id: string; startedAt: number; method: string; path: string; query: string | undefined;
    params: Readonly<Record<string, string | undefined>>; headers: Readonly<IncomingHttpHeaders>; rawHeaders: readonly string[];
    clientIp: string; peerIp: string; route: RouteConfig; abort: RequestAbort;
  }) {
    this.id = init.id;
    this.startedAt = init.startedAt;
    this.method = init.method;
    this.path = init.path;
    this.query = init.query;
    this.params = init.params;
    this.headers = init.headers;
    this.rawHeaders = init.rawHeaders;
    this.clientIp = init.clientIp;
    this.peerIp = init.peerIp;
    this.route = init.route;
    this.#abort = init.abort;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get locals(): Map<string, unknown> {
    return (this.#locals ??= new Map());
  }
}

const NO_BODY: RequestBody = Object.freeze({ type: 'none' });
