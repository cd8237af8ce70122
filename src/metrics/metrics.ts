import { Registry } from 'prom-client';
import type { DecisionCounters } from '../core/counters.js';
import type { EventBus } from '../events/bus.js';
import type { SecurityEvent } from '../events/event.js';
import { defineGatewayMetrics } from './definitions.js';
import { bump, GATEWAY_STAGE, labelledSinkStats, NO_ROUTE, OTHER, type LabelledCount, type SinkStatsSource } from './labels.js';
import { defaultMetricsRegistry, observeDetector } from './process.js';
import { RouteMetrics } from './route-metrics.js';
import { bulwarkVersion } from './version.js';

export { NO_ROUTE, LOCAL_ROUTE, HEALTH_ROUTE, GATEWAY_STAGE, OTHER, RATE_LIMIT_STAGE_UNITS, sinkLabel } from './labels.js';
export type { RateLimitUnit, SinkStatsSource } from './labels.js';
export { RouteMetrics } from './route-metrics.js';

export interface GatewayMetricsOptions {
  /** prom-client's process and Node.js metrics, prefixed `bulwark_` (default true). */
  processMetrics?: boolean;
  /** `bulwark_build_info{version}` (default: package.json's). */
  version?: string;
  /** Most distinct `route` label values; later ones count as `(other)` (default 1000). */
  maxRoutes?: number;
}

/** A counter cell; boxed so the refusal path increments without re-keying. */
interface Cell {
  n: number;
}

/** An upstream's admission gate as the metrics see it. */
export interface UpstreamGateStats {
  readonly name: string;
  readonly active: number;
  readonly queued: number;
}

/**
 * Bulwark's metrics on a registry of its own (never prom-client's global one). The request path
 * calls the hook methods; everything derived from state that exists anyway (decision counters,
 * in-flight count, sink queues, events) is read at scrape time by collect callbacks
 * (definitions.ts).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #processMetrics: boolean;
  readonly #maxRoutes: number;
  readonly #routes = new Map<string, RouteMetrics>();
  readonly #routeList: RouteMetrics[] = [];
  /** stage -> code -> count. */
  readonly #blocks = new Map<string, Map<string, Cell>>();
  #blockSeries = 0;
  /** route\0phase\0reason -> count. */
  readonly #upstreamErrors = new Map<string, LabelledCount>();
  readonly #storeDegraded = new Map<string, LabelledCount>();
  #streams = 0;
  #adminAuthFailures = 0;
  #counters: DecisionCounters | undefined;
  #inflight: { readonly size: number } | undefined;
  #sinks: (() => readonly SinkStatsSource[]) | undefined;
  #upstreams: (() => Iterable<UpstreamGateStats>) | undefined;
  #inventoryOverflow: (() => Readonly<Record<string, number>>) | undefined;
  readonly #unsubscribe: Array<() => unknown> = [];

  constructor(options: GatewayMetricsOptions = {}) {
    this.#processMetrics = options.processMetrics ?? true;
    this.#maxRoutes = options.maxRoutes ?? 1000;
    defineGatewayMetrics(this.registry, options.version ?? bulwarkVersion(), {
      routes: this.#routeList,
      blocks: this.#blocks,
      upstreamErrors: this.#upstreamErrors,
      storeDegraded: this.#storeDegraded,
      decisions: () => this.#counters,
      streams: () => this.#streams,
      inflight: () => this.#inflight?.size ?? 0,
      sinks: () => labelledSinkStats(this.#sinks?.() ?? []),
      upstreams: () => this.#upstreams?.() ?? [],
      adminAuthFailures: () => this.#adminAuthFailures,
      inventoryOverflow: () => this.#inventoryOverflow?.(),
    });
  }

  // ---- request path -------------------------------------------------------------------------

  /** The series of `route` (undefined: `(none)`). A Map lookup once the route is known. */
  route(name: string | undefined): RouteMetrics {
    const key = name ?? NO_ROUTE;
    return this.#routes.get(key) ?? this.#addRoute(key);
  }

  /**
   * A request is over (answered, refused or abandoned: status 499). `totalSeconds` from the
   * request head to the end; `upstreamSeconds` from sending it upstream to the last byte relayed,
   * when it was forwarded. Feeds bulwark_requests_total, bulwark_request_duration_seconds
   * (total minus upstream) and bulwark_upstream_duration_seconds.
   */
  requestFinished(route: string | undefined, status: number, totalSeconds: number, upstreamSeconds?: number): void {
    this.route(route).finished(status, totalSeconds, upstreamSeconds);
  }

  /** Seconds from sending a request upstream to its response headers. */
  upstreamResponded(route: string | undefined, seconds: number): void {
    this.route(route).upstreamHeaders.observe(seconds);
  }

  /** An enforced refusal: the stage that refused (undefined: the gateway core) and its error code. */
  blocked(stage: string | undefined, code: string): void {
    const s = stage ?? GATEWAY_STAGE;
    const cell = this.#blocks.get(s)?.get(code) ?? this.#addBlock(s, code);
    cell.n++;
  }

  streamOpened(): void {
    this.#streams++;
  }

  streamClosed(): void {
    if (this.#streams > 0) this.#streams--;
  }

  /** Same as the module function `observeDetector` (the series is process-wide). */
  observeDetector(seconds: number): void {
    observeDetector(seconds);
  }

  adminAuthFailed(): void {
    this.#adminAuthFailures++;
  }

  // ---- sources read at scrape time ----------------------------------------------------------

  /** Creates the series of these routes now (zeros from the first scrape); call at start and on reload. */
  setRoutes(names: Iterable<string>): void {
    for (const n of names) this.route(n);
  }

  /** Stage decision counters: bulwark_stage_decisions_total and bulwark_ratelimit_hits_total. */
  trackDecisions(counters: DecisionCounters): void {
    this.#counters = counters;
  }

  /** bulwark_requests_in_flight from the drain counter. */
  trackInflight(inflight: { readonly size: number }): void {
    this.#inflight = inflight;
  }

  /** The current upstreams (they change on reload): requests sent and waiting at each. */
  trackUpstreams(upstreams: () => Iterable<UpstreamGateStats>): void {
    this.#upstreams = upstreams;
  }

  /** The current sinks (they change on reload): queue depth and drops from their `stats()`. */
  trackSinks(sinks: () => readonly SinkStatsSource[]): void {
    this.#sinks = sinks;
  }

  /** bulwark_inventory_overflow_total from the endpoint inventory's counts. */
  trackInventoryOverflow(counts: () => Readonly<Record<string, number>>): void {
    this.#inventoryOverflow = counts;
  }

  /** Upstream errors and store degradation, from the events that report them. Returns an unsubscribe. */
  watchEvents(bus: EventBus): () => unknown {
    const off = bus.subscribe((e) => this.#onEvent(e), ['upstream.error', 'stage.error']);
    this.#unsubscribe.push(off);
    return off;
  }

  // ---- exposition ---------------------------------------------------------------------------

  /** The Prometheus text format (version 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Everything: this gateway's series, the detector, and (unless disabled) process metrics. */
  async metrics(): Promise<string> {
    const text = await (this.#processMetrics ? Registry.merge([this.registry, defaultMetricsRegistry()]) : this.registry).metrics();
    // prom-client 15 writes NaN as "Nan" (the event-loop mean and stddev before any sample); the
    // format spells it "NaN".
    return text.replace(/ Nan$/gm, ' NaN');
  }

  /** Stops listening to events. */
  close(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
  }

  // ---- internals ----------------------------------------------------------------------------

  #addRoute(key: string): RouteMetrics {
    if (this.#routes.size >= this.#maxRoutes) {
      const other = this.#routes.get(OTHER);
      if (other) return other;
    }
    const name = this.#routes.size >= this.#maxRoutes ? OTHER : key;
    const r = new RouteMetrics(name);
    this.#routes.set(name, r);
    this.#routeList.push(r);
    return r;
  }

  #addBlock(stage: string, code: string): Cell {
    let s = stage;
    let c = code;
    if (this.#blockSeries >= 500) {
      s = OTHER;
      c = OTHER;
    }
    let codes = this.#blocks.get(s);
    if (!codes) this.#blocks.set(s, (codes = new Map()));
    let cell = codes.get(c);
    if (!cell) {
      codes.set(c, (cell = { n: 0 }));
      this.#blockSeries++;
    }
    // Past the cap the caller's (stage, code) is not stored: it resolves here each time (rare).
    return cell;
  }

  #onEvent(e: SecurityEvent): void {
    if (e.event.action === 'upstream.error') {
      const route = e.bulwark.route ?? NO_ROUTE;
      const phase = typeof e.bulwark.phase === 'string' ? e.bulwark.phase : 'unknown';
      const reason = e.event.reason ?? 'unknown';
      bump(this.#upstreamErrors, 500, { route, phase, reason });
    } else if (e.event.action === 'stage.error' && e.event.reason?.startsWith('store_unavailable_')) {
      bump(this.#storeDegraded, 100, { stage: e.bulwark.stage ?? 'unknown', policy: e.event.reason.slice('store_unavailable_'.length) });
    }
  }
}
