import { GATEWAY_BUCKETS, HistogramSeries, toBounds, UPSTREAM_BUCKETS } from './histogram.js';

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
