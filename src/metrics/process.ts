import { collectDefaultMetrics, Registry } from 'prom-client';
import { DETECTOR_BUCKETS, HistogramSeries, toBounds } from './histogram.js';

/**
 * Process-wide measurements. The prompt-guard detector is one per process (its weights are loaded
 * once whatever the number of routes, reloads or gateways), so its timing is too; every
 * GatewayMetrics exposes this one series.
 */
export const detectorSeries = new HistogramSeries(toBounds(DETECTOR_BUCKETS));

/** Time one prompt-guard screening of a request took (all its texts), in seconds. */
export function observeDetector(seconds: number): void {
  detectorSeries.observe(seconds);
}

let defaults: Registry | undefined;

/**
 * prom-client's process and Node.js metrics (CPU, memory, event-loop lag, GC, handles), prefixed
 * `bulwark_`, on a registry of their own. Shared: each collectDefaultMetrics call starts an
 * event-loop-delay monitor and a GC observer that are never stopped, so it runs once per process
 * however many gateways (tests) are created.
 */
export function defaultMetricsRegistry(): Registry {
  if (!defaults) {
    const r = new Registry();
    collectDefaultMetrics({ register: r, prefix: 'bulwark_' });
    defaults = r;
  }
  return defaults;
}
