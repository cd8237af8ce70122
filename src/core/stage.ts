import type { BulwarkConfig } from '../config/schema.js';
import type { RouteConfig } from '../config/schema-route.js';
import type { EventBus } from '../events/bus.js';
import type { Store } from '../stores/store.js';
import type { RequestContext } from './context.js';
import type { StageRequestPhase } from './phases.js';
import type { Deny, Verdict } from './verdict.js';

/** Upstream response head as seen by response stages. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * A streaming response transform. `onChunk` returns what may be sent now (holding back at most a
 * bounded window); `onEnd` returns the tail. Throwing a StageDenied ends the response closed.
 */
export interface ResponseFilter {
  /** The filter only reads (usage accounting): it returns every chunk unchanged, so the body keeps its length. */
  readonly observeOnly?: boolean;
  /**
   * The filter must see the whole body before anything is sent (a JSON answer is checked whole
   * and may be refused with a status): the response head waits, and gets the final length.
   */
  readonly wholeBody?: boolean;
  onChunk(chunk: Buffer): Buffer;
  onEnd(): Buffer;
}

/**
 * Thrown by a response filter to refuse the answer. Before anything was sent the client gets the
 * verdict as a problem response; on a stream already under way it gets `final` (an error event
 * in the API's own format) and the stream ends; without `final` the connection is cut. The
 * upstream request is aborted either way. The stage has already emitted its event.
 */
export class ResponseRefused extends Error {
  constructor(
    readonly verdict: Deny,
    readonly final?: Buffer,
  ) {
    super(verdict.detail);
    this.name = 'ResponseRefused';
  }
}

/** A stage built for one route from validated config. */
export interface StageInstance {
  readonly name: string;
  readonly phase: StageRequestPhase;
  /** A stage that proves who the caller is or what it may do: its failure refuses even on an `onError: allow` route. */
  readonly failClosed?: boolean;
  onRequest?(ctx: RequestContext): Verdict | Promise<Verdict>;
  /** Called once per response; return a filter to transform the body, or undefined to pass it through. */
  onResponse?(ctx: RequestContext, head: ResponseHead): ResponseFilter | undefined;
  /** Releases what the instance holds (subscriptions, timers) when its config is replaced or the gateway stops. */
  close?(): void;
}

/** A request to an endpoint the gateway answers itself (token endpoint, JWKS). */
export interface LocalRequest {
  readonly requestId: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly clientIp: string;
}

export interface LocalResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** An endpoint answered by the gateway, never forwarded. Registered beside the routes. */
export interface LocalEndpoint {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Largest body read (bytes); larger gets 413. */
  readonly maxBodyBytes: number;
  handle(req: LocalRequest): Promise<LocalResponse>;
}

/** What a stage factory may use at build time. */
export interface StageBuildContext {
  readonly config: BulwarkConfig;
  readonly events: EventBus;
  readonly store: Store;
}

/**
 * A stage definition: its name (folder, config key, metric prefix and docs page) and a factory
 * run once per route at load. Returning undefined means "not configured on this route": such a
 * route pays nothing for the stage.
 */
export interface StageDefinition {
  readonly name: string;
  build(route: RouteConfig, ctx: StageBuildContext): StageInstance | undefined;
  /** Endpoints this stage answers itself, built once per config. */
  endpoints?(ctx: StageBuildContext): readonly LocalEndpoint[];
}

export function defineStage(def: StageDefinition): StageDefinition {
  if (!/^[a-z][a-z0-9-]*$/.test(def.name)) throw new Error(`stage name must be kebab-case: ${def.name}`);
  return def;
}
