import { Counter, Gauge, Registry } from 'prom-client';
import type { DecisionCounters } from '../core/counters.js';
import type { EventBus } from '../events/bus.js';
import type { SecurityEvent } from '../events/event.js';
import { ExposedHistogram, GATEWAY_BUCKETS, HistogramSeries, toBounds, UPSTREAM_BUCKETS, type LabelledSeries } from './histogram.js';
import { defaultMetricsRegistry, detectorSeries, observeDetector } from './process.js';
import { bulwarkVersion } from './version.js';

/** `route` label of requests that matched no route (unregistered, refused before routing). */
export const NO_ROUTE = '(none)';
/** `route` label of the endpoints the gateway answers itself (token endpoint, JWKS). */
export const LOCAL_ROUTE = '(local)';
/** `route` label of the liveness path. */
export const HEALTH_ROUTE = '(health)';
/** `stage` label of refusals the gateway core makes itself (framing, routing, body, encoding). */
export const GATEWAY_STAGE = '(gateway)';
/** Label value that takes every new value once a label's cap is reached (cardinality bound). */
export const OTHER = '(other)';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export type RateLimitUnit = 'requests' | 'tokens' | 'concurrent';

/**
 * The stages whose denials are rate-limit hits, and what they count. `ratelimit.exceeded` events
 * are sampled (one per key per window), so hits are counted from the decision counters, which
 * see every denial.
 */
export const RATE_LIMIT_STAGE_UNITS: Readonly<Record<string, RateLimitUnit>> = {
  'rate-limit-ip': 'requests',
  'rate-limit': 'requests',
  'rate-limit-concurrent-ip': 'concurrent',
  'rate-limit-concurrent': 'concurrent',
  'rate-limit-tokens': 'tokens',
};

/** What the sink metrics read: EventSink with its optional `stats()`. */
export interface SinkStatsSource {
  readonly name: string;
  stats?(): { queued: number; dropped: number };
}

export interface GatewayMetricsOptions {
  /** prom-client's process and Node.js metrics, prefixed `bulwark_` (default true). */
  processMetrics?: boolean;
  /** `bulwark_build_info{version}` (default: package.json's). */
  version?: string;
  /** Most distinct `route` label values; later ones count as `(other)` (default 1000). */
  maxRoutes?: number;
}

const bounds = { gateway: toBounds(GATEWAY_BUCKETS), upstream: toBounds(UPSTREAM_BUCKETS) };

/**
 * One route's series, created once (at config load or first use) and then only incremented: the
 * request path does a Map lookup and a few typed-array writes, nothing else.
 */
export class RouteMetrics {
  readonly name: string;
  readonly labels: Readonly<{ route: string }>;
  /** `(none)`, `(local)`, `(health)`, `(other)`: not a configured route (those never start with "("). */
  readonly pseudo: boolean;
  /** Requests by status class, index 0..4 = 1xx..5xx. */
  readonly requests = new Float64Array(5);
  /** Time the gateway added (total minus upstream). */
  readonly gateway = new HistogramSeries(bounds.gateway);
  /** Request sent upstream to response headers. */
  readonly upstreamHeaders = new HistogramSeries(bounds.upstream);
  /** Request sent upstream to the last byte relayed. */
  readonly upstream = new HistogramSeries(bounds.upstream);

  constructor(name: string) {
    this.name = name;
    this.labels = Object.freeze({ route: name });
    this.pseudo = name.startsWith('(');
  }

  /** See GatewayMetrics.requestFinished. */
  finished(status: number, totalSeconds: number, upstreamSeconds?: number): void {
    const c = (status / 100) | 0;
    const i = c <= 1 ? 0 : c >= 5 ? 4 : c - 1;
    this.requests[i] = (this.requests[i] as number) + 1;
    if (upstreamSeconds === undefined) {
      this.gateway.observe(totalSeconds);
    } else {
      this.upstream.observe(upstreamSeconds);
      this.gateway.observe(totalSeconds - upstreamSeconds);
    }
  }

  /** Seconds from sending the request upstream to its response headers. */
  upstreamResponded(seconds: number): void {
    this.upstreamHeaders.observe(seconds);
  }
}

/** A counter cell; boxed so the refusal path increments without re-keying. */
interface Cell {
  n: number;
}

/**
 * Bulwark's metrics on a registry of its own (never prom-client's global one). The request path
 * calls the hook methods; everything derived from state that exists anyway (decision counters,
 * in-flight count, sink queues, events) is read at scrape time by collect callbacks.
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
  readonly #upstreamErrors = new Map<string, { labels: Record<string, string>; n: number }>();
  readonly #storeDegraded = new Map<string, { labels: Record<string, string>; n: number }>();
  #streams = 0;
  #adminAuthFailures = 0;
  #counters: DecisionCounters | undefined;
  #inflight: { readonly size: number } | undefined;
  #sinks: (() => readonly SinkStatsSource[]) | undefined;
  readonly #unsubscribe: Array<() => unknown> = [];

  constructor(options: GatewayMetricsOptions = {}) {
    this.#processMetrics = options.processMetrics ?? true;
    this.#maxRoutes = options.maxRoutes ?? 1000;
    const registers = [this.registry];
    const self = this;

    new Gauge({ name: 'bulwark_build_info', help: 'Always 1; the version label says which Bulwark runs.', labelNames: ['version'], registers }).set({ version: options.version ?? bulwarkVersion() }, 1);

    new Counter({
      name: 'bulwark_requests_total',
      help: 'Requests answered, by route ("(none)": no route matched or refused before routing) and status class.',
      labelNames: ['route', 'status_class'],
      registers,
      collect() {
        this.reset();
        for (const r of self.#routeList) for (let i = 0; i < 5; i++) this.inc({ route: r.name, status_class: STATUS_CLASSES[i] as string }, r.requests[i] as number);
      },
    });

    // Upstream series only for configured routes (and pseudo-routes that somehow have data):
    // "(none)" or "(health)" never go upstream.
    const routeHistogram = (name: string, help: string, buckets: readonly number[], pick: (r: RouteMetrics) => HistogramSeries, all: boolean) =>
      new ExposedHistogram({
        name, help, labelNames: ['route'], buckets, registry: this.registry,
        source: () => this.#routeList.filter((r) => all || !r.pseudo || !pick(r).empty).map((r): LabelledSeries => ({ labels: r.labels, series: pick(r) })),
      });
    routeHistogram('bulwark_request_duration_seconds', 'Time the gateway added to a request: total time minus the time spent waiting on and relaying from the upstream.', GATEWAY_BUCKETS, (r) => r.gateway, true);
    routeHistogram('bulwark_upstream_duration_seconds', 'Time from sending a request upstream to the last byte of its answer relayed.', UPSTREAM_BUCKETS, (r) => r.upstream, false);
    routeHistogram('bulwark_upstream_headers_seconds', 'Time from sending a request upstream to its response headers.', UPSTREAM_BUCKETS, (r) => r.upstreamHeaders, false);

    const detector: readonly LabelledSeries[] = [{ labels: {}, series: detectorSeries }];
    new ExposedHistogram({ name: 'bulwark_detector_duration_seconds', help: 'Prompt-injection detector time per screened request (all its texts), process-wide.', labelNames: [], buckets: [...detectorSeries.bounds], registry: this.registry, source: () => detector });

    new Counter({
      name: 'bulwark_blocks_total',
      help: 'Requests and answers refused, by the stage that refused ("(gateway)": the core itself) and the error code.',
      labelNames: ['stage', 'code'],
      registers,
      collect() {
        this.reset();
        for (const [stage, codes] of self.#blocks) for (const [code, cell] of codes) this.inc({ stage, code }, cell.n);
      },
    });

    new Counter({
      name: 'bulwark_ratelimit_hits_total',
      help: 'Requests refused by a rate, token or concurrency limit (every one; the ratelimit.exceeded events are sampled).',
      labelNames: ['route', 'unit'],
      registers,
      collect() {
        this.reset();
        const counters = self.#counters;
        if (!counters) return;
        for (const c of counters.snapshot()) {
          const unit = RATE_LIMIT_STAGE_UNITS[c.stage];
          if (unit !== undefined && c.decision === 'denied') this.inc({ route: c.route, unit }, c.value);
        }
      },
    });

    new Counter({
      name: 'bulwark_stage_decisions_total',
      help: 'Stage decisions per stage and route: evaluated, allowed, denied, would_deny (monitor mode), errored.',
      labelNames: ['stage', 'route', 'decision'],
      registers,
      collect() {
        this.reset();
        for (const c of self.#counters?.snapshot() ?? []) this.inc({ stage: c.stage, route: c.route, decision: c.decision }, c.value);
      },
    });

    new Counter({
      name: 'bulwark_upstream_errors_total',
      help: 'Upstream failures: unreachable or too slow before the headers, or broken off in the body.',
      labelNames: ['route', 'phase', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const e of self.#upstreamErrors.values()) this.inc(e.labels, e.n);
      },
    });

    new Counter({
      name: 'bulwark_store_degraded_total',
      help: 'Reports of the state store failing while a stage degraded (local or allow); at most one per stage every 10 s.',
      labelNames: ['stage', 'policy'],
      registers,
      collect() {
        this.reset();
        for (const e of self.#storeDegraded.values()) this.inc(e.labels, e.n);
      },
    });

    new Gauge({
      name: 'bulwark_active_streams',
      help: 'Event-stream (SSE) answers being relayed now.',
      registers,
      collect() {
        this.set(self.#streams);
      },
    });

    new Gauge({
      name: 'bulwark_requests_in_flight',
      help: 'Requests being processed now.',
      registers,
      collect() {
        this.set(self.#inflight?.size ?? 0);
      },
    });

    new Gauge({
      name: 'bulwark_sink_queue_depth',
      help: 'Events waiting in a sink\'s queue.',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const { label, stats } of self.#sinkStats()) this.set({ sink: label }, stats.queued);
      },
    });

    new Counter({
      name: 'bulwark_sink_dropped_total',
      help: 'Events a sink dropped (queue full or delivery given up). Restarts at 0 when sinks are rebuilt on reload.',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const { label, stats } of self.#sinkStats()) this.inc({ sink: label }, stats.dropped);
      },
    });

    new Counter({
      name: 'bulwark_admin_auth_failures_total',
      help: 'Admin API calls refused for a missing or wrong token or client certificate.',
      registers,
      collect() {
        this.reset();
        this.inc(self.#adminAuthFailures);
      },
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

  /** The current sinks (they change on reload): queue depth and drops from their `stats()`. */
  trackSinks(sinks: () => readonly SinkStatsSource[]): void {
    this.#sinks = sinks;
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

  *#sinkStats(): Generator<{ label: string; stats: { queued: number; dropped: number } }> {
    const seen = new Map<string, number>();
    for (const sink of this.#sinks?.() ?? []) {
      if (typeof sink.stats !== 'function') continue;
      let stats: { queued: number; dropped: number };
      try {
        stats = sink.stats();
      } catch {
        continue;
      }
      const base = sinkLabel(sink.name);
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      yield { label: n === 1 ? base : `${base}#${n}`, stats };
    }
  }
}

function bump(map: Map<string, { labels: Record<string, string>; n: number }>, cap: number, labels: Record<string, string>): void {
  const key = Object.values(labels).join('\u0000');
  let e = map.get(key);
  if (!e) {
    if (map.size >= cap) {
      const overflow = Object.fromEntries(Object.keys(labels).map((k) => [k, OTHER]));
      const okey = Object.values(overflow).join('\u0000');
      e = map.get(okey);
      if (!e) map.set(okey, (e = { labels: overflow, n: 0 }));
    } else {
      map.set(key, (e = { labels, n: 0 }));
    }
  }
  e.n++;
}

/**
 * A sink's name as a label: a webhook URL may carry credentials (userinfo, query), which must not
 * reach a scrape, so those parts are cut.
 */
export function sinkLabel(name: string): string {
  return name.replace(/\/\/[^/@?#]*@/, '//').replace(/[?#].*$/, '').slice(0, 200);
}
