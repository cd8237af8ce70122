import { Counter, Gauge, type Registry } from 'prom-client';
import type { DecisionCounters } from '../core/counters.js';
import { ExposedHistogram, GATEWAY_BUCKETS, type HistogramSeries, type LabelledSeries, UPSTREAM_BUCKETS } from './histogram.js';
import { type LabelledCount, type LabelledSinkStats, RATE_LIMIT_STAGE_UNITS } from './labels.js';
import { detectorSeries } from './process.js';
import type { RouteMetrics } from './route-metrics.js';

/**
 * The gateway's metric definitions (name, help, labels), in exposition order. Apart from
 * `bulwark_build_info`, none holds values of its own: each reads, at scrape time, state that
 * GatewayMetrics keeps or that exists anyway (decision counters, in-flight count, sinks), so the
 * request path never touches prom-client.
 */

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** What the collect callbacks read; the collections are live (mutated in place, never replaced). */
export interface MetricSources {
  readonly routes: readonly RouteMetrics[];
  /** stage -> code -> count. */
  readonly blocks: ReadonlyMap<string, ReadonlyMap<string, { readonly n: number }>>;
  readonly upstreamErrors: ReadonlyMap<string, LabelledCount>;
  readonly storeDegraded: ReadonlyMap<string, LabelledCount>;
  decisions(): DecisionCounters | undefined;
  streams(): number;
  inflight(): number;
  sinks(): Iterable<LabelledSinkStats>;
  /** Each upstream's admission gate: requests sent and waiting now. */
  upstreams(): Iterable<{ readonly name: string; readonly active: number; readonly queued: number }>;
  adminAuthFailures(): number;
  /** Templates the endpoint inventory left out, by bound. */
  inventoryOverflow(): Readonly<Record<string, number>> | undefined;
}

/** Registers every gateway metric on `registry` (`version`: the `bulwark_build_info` label). */
export function defineGatewayMetrics(registry: Registry, version: string, sources: MetricSources): void {
  const registers = [registry];

  new Gauge({ name: 'bulwark_build_info', help: 'Always 1; the version label says which Bulwark runs.', labelNames: ['version'], registers }).set({ version }, 1);

  new Counter({
    name: 'bulwark_requests_total',
    help: 'Requests answered, by route ("(none)": no route matched or refused before routing) and status class.',
    labelNames: ['route', 'status_class'],
    registers,
    collect() {
      this.reset();
      for (const r of sources.routes) for (let i = 0; i < 5; i++) this.inc({ route: r.name, status_class: STATUS_CLASSES[i] as string }, r.requests[i] as number);
    },
  });

  // Upstream series only for configured routes (and pseudo-routes that somehow have data):
  // "(none)" or "(health)" never go upstream.
  const routeHistogram = (name: string, help: string, buckets: readonly number[], pick: (r: RouteMetrics) => HistogramSeries, all: boolean) =>
    new ExposedHistogram({
      name, help, labelNames: ['route'], buckets, registry,
      source: () => sources.routes.filter((r) => all || !r.pseudo || !pick(r).empty).map((r): LabelledSeries => ({ labels: r.labels, series: pick(r) })),
    });
  routeHistogram('bulwark_request_duration_seconds', 'Time the gateway added to a request: total time minus the time spent waiting on and relaying from the upstream.', GATEWAY_BUCKETS, (r) => r.gateway, true);
  routeHistogram('bulwark_upstream_duration_seconds', 'Time from sending a request upstream to the last byte of its answer relayed.', UPSTREAM_BUCKETS, (r) => r.upstream, false);
  routeHistogram('bulwark_upstream_headers_seconds', 'Time from sending a request upstream to its response headers.', UPSTREAM_BUCKETS, (r) => r.upstreamHeaders, false);

  const detector: readonly LabelledSeries[] = [{ labels: {}, series: detectorSeries }];
  new ExposedHistogram({ name: 'bulwark_detector_duration_seconds', help: 'Prompt-injection detector time per screened request (all its texts), process-wide.', labelNames: [], buckets: [...detectorSeries.bounds], registry, source: () => detector });

  new Counter({
    name: 'bulwark_blocks_total',
    help: 'Requests and answers refused, by the stage that refused ("(gateway)": the core itself) and the error code.',
    labelNames: ['stage', 'code'],
    registers,
    collect() {
      this.reset();
      for (const [stage, codes] of sources.blocks) for (const [code, cell] of codes) this.inc({ stage, code }, cell.n);
    },
  });

  new Counter({
    name: 'bulwark_ratelimit_hits_total',
    help: 'Requests refused by a rate, token or concurrency limit (every one; the ratelimit.exceeded events are sampled).',
    labelNames: ['route', 'unit'],
    registers,
    collect() {
      this.reset();
      const counters = sources.decisions();
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
      for (const c of sources.decisions()?.snapshot() ?? []) this.inc({ stage: c.stage, route: c.route, decision: c.decision }, c.value);
    },
  });

  new Counter({
    name: 'bulwark_upstream_errors_total',
    help: 'Upstream failures: unreachable or too slow before the headers, or broken off in the body.',
    labelNames: ['route', 'phase', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const e of sources.upstreamErrors.values()) this.inc(e.labels, e.n);
    },
  });

  new Counter({
    name: 'bulwark_inventory_overflow_total',
    help: 'Requests whose endpoint the inventory left out, by the bound that was full: client (new templates per client network), prefix (templates per path prefix), total (the store\'s template cap), pending (templates between flushes).',
    labelNames: ['bound'],
    registers,
    collect() {
      this.reset();
      for (const [bound, n] of Object.entries(sources.inventoryOverflow() ?? {})) this.inc({ bound }, n);
    },
  });

  new Counter({
    name: 'bulwark_store_degraded_total',
    help: 'Reports of the state store failing while a stage degraded (local or allow); at most one per stage every 10 s.',
    labelNames: ['stage', 'policy'],
    registers,
    collect() {
      this.reset();
      for (const e of sources.storeDegraded.values()) this.inc(e.labels, e.n);
    },
  });

  new Gauge({
    name: 'bulwark_active_streams',
    help: 'Event-stream (SSE) answers being relayed now.',
    registers,
    collect() {
      this.set(sources.streams());
    },
  });

  new Gauge({
    name: 'bulwark_requests_in_flight',
    help: 'Requests being processed now.',
    registers,
    collect() {
      this.set(sources.inflight());
    },
  });

  new Gauge({
    name: 'bulwark_upstream_requests_active',
    help: 'Requests sent to an upstream and not finished (at most its connections).',
    labelNames: ['upstream'],
    registers,
    collect() {
      this.reset();
      for (const u of sources.upstreams()) this.set({ upstream: u.name }, u.active);
    },
  });

  new Gauge({
    name: 'bulwark_upstream_queue_depth',
    help: 'Requests waiting for a free upstream connection (at most upstreams.<name>.queue.max; refusals are bulwark_blocks_total{code="UPSTREAM_BUSY"}).',
    labelNames: ['upstream'],
    registers,
    collect() {
      this.reset();
      for (const u of sources.upstreams()) this.set({ upstream: u.name }, u.queued);
    },
  });

  new Gauge({
    name: 'bulwark_sink_queue_depth',
    help: 'Events waiting in a sink\'s queue.',
    labelNames: ['sink'],
    registers,
    collect() {
      this.reset();
      for (const { label, stats } of sources.sinks()) this.set({ sink: label }, stats.queued);
    },
  });

  new Counter({
    name: 'bulwark_sink_dropped_total',
    help: 'Events a sink dropped (queue full or delivery given up). Restarts at 0 when sinks are rebuilt on reload.',
    labelNames: ['sink'],
    registers,
    collect() {
      this.reset();
      for (const { label, stats } of sources.sinks()) this.inc({ sink: label }, stats.dropped);
    },
  });

  new Counter({
    name: 'bulwark_admin_auth_failures_total',
    help: 'Admin API calls refused for a missing or wrong token or client certificate.',
    registers,
    collect() {
      this.reset();
      this.inc(sources.adminAuthFailures());
    },
  });
}
