/**
 * Micro-benchmark of the per-request metric hooks: `npx tsx src/metrics/bench.ts [iterations]`.
 * Prints nanoseconds per call, next to the same observations through prom-client's own labelled
 * children for comparison, and the heap growth over the run (should stay ~0 for the hooks).
 */
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, Registry } from 'prom-client';
import { GATEWAY_BUCKETS, UPSTREAM_BUCKETS } from './histogram.js';
import { GatewayMetrics } from './metrics.js';

const N = Number(process.argv[2] ?? 2_000_000);
const ROUTES = ['chat', 'embeddings', 'models', 'completions'];
const STATUS = [200, 200, 200, 429, 200, 502, 200, 401];

function bench(name: string, fn: (i: number) => void): void {
  for (let i = 0; i < 200_000; i++) fn(i); // warm-up (JIT)
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) fn(i);
  const ns = ((performance.now() - t0) * 1e6) / N;
  const heap = (process.memoryUsage().heapUsed - heap0) / 1024;
  console.log(`${name.padEnd(44)} ${ns.toFixed(1).padStart(7)} ns/call   heap ${heap >= 0 ? '+' : ''}${heap.toFixed(0)} KiB`);
}

const m = new GatewayMetrics({ processMetrics: false });
m.setRoutes(ROUTES);
bench('GatewayMetrics.requestFinished (forwarded)', (i) => m.requestFinished(ROUTES[i & 3], STATUS[i & 7] as number, 0.0123 + (i & 15) * 1e-4, 0.012));
bench('GatewayMetrics.requestFinished (refused)', (i) => m.requestFinished(ROUTES[i & 3], 403, 0.0002 + (i & 15) * 1e-5));
bench('GatewayMetrics.upstreamResponded', (i) => m.upstreamResponded(ROUTES[i & 3], 0.01 + (i & 15) * 1e-3));
bench('GatewayMetrics.blocked', (i) => m.blocked(i & 1 ? 'rate-limit' : undefined, i & 2 ? 'RATE_LIMITED' : 'ROUTE_NOT_FOUND'));
bench('GatewayMetrics.streamOpened+Closed', () => {
  m.streamOpened();
  m.streamClosed();
});

// The same as requestFinished, through prom-client's labelled children (created once).
const registry = new Registry();
const requests = new Counter({ name: 'r_total', help: 'r', labelNames: ['route', 'status_class'], registers: [registry] });
const gateway = new Histogram({ name: 'g_seconds', help: 'g', labelNames: ['route'], buckets: [...GATEWAY_BUCKETS], registers: [registry] });
const upstream = new Histogram({ name: 'u_seconds', help: 'u', labelNames: ['route'], buckets: [...UPSTREAM_BUCKETS], registers: [registry] });
const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'];
const children = ROUTES.map((route) => ({
  requests: classes.map((c) => requests.labels(route, c)),
  gateway: gateway.labels(route),
  upstream: upstream.labels(route),
}));
bench('prom-client children (same observations)', (i) => {
  const c = children[i & 3] as (typeof children)[number];
  const status = STATUS[i & 7] as number;
  c.requests[((status / 100) | 0) - 1]?.inc();
  const total = 0.0123 + (i & 15) * 1e-4;
  c.upstream.observe(0.012);
  c.gateway.observe(total - 0.012);
});

const scrape0 = performance.now();
const text = await m.metrics();
console.log(`scrape: ${(performance.now() - scrape0).toFixed(2)} ms, ${text.length} bytes`);
