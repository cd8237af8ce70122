export { GatewayMetrics, RouteMetrics, NO_ROUTE, LOCAL_ROUTE, HEALTH_ROUTE, GATEWAY_STAGE, OTHER, RATE_LIMIT_STAGE_UNITS, sinkLabel } from './metrics.js';
export type { GatewayMetricsOptions, RateLimitUnit, SinkStatsSource } from './metrics.js';
export { observeDetector } from './process.js';
export { GATEWAY_BUCKETS, UPSTREAM_BUCKETS, DETECTOR_BUCKETS } from './histogram.js';
export { bulwarkVersion } from './version.js';
