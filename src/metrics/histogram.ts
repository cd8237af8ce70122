import { Histogram, type Registry } from 'prom-client';

/**
 * Histograms whose hot path is a bucket scan over a typed array: no label hashing, no object per
 * observation (prom-client's own `observe` builds a label object and a hash string each call).
 * prom-client still owns naming, registration and the text exposition: `ExposedHistogram` feeds
 * it these series at scrape time.
 */

/** Gateway-added time: a few hundred microseconds normally, milliseconds with detectors. */
export const GATEWAY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Upstream (LLM) time: tens of milliseconds to minutes for long streams. */
export const UPSTREAM_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];
/** One prompt-guard scoring of a request's texts. */
export const DETECTOR_BUCKETS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** One labelled series: per-bucket counts (not cumulative) and their sum; the count is their total. */
export class HistogramSeries {
  readonly bounds: Float64Array;
  /** counts[i] observations in (bounds[i-1], bounds[i]]; the last slot is above the largest bound. */
  readonly counts: Float64Array;
  sum = 0;

  constructor(bounds: Float64Array) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Seconds. Negative values (clock jitter in a difference) count as 0; NaN and infinities are dropped. */
  observe(value: number): void {
    let v = value;
    if (!(v >= 0)) {
      if (v < 0) v = 0;
      else return;
    } else if (v === Infinity) return;
    const b = this.bounds;
    const n = b.length;
    let i = 0;
    while (i < n && v > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += v;
  }

  /** Whether anything was observed. */
  get empty(): boolean {
    for (let i = 0; i < this.counts.length; i++) if ((this.counts[i] as number) > 0) return false;
    return true;
  }
}

export function toBounds(buckets: readonly number[]): Float64Array {
  for (let i = 1; i < buckets.length; i++) if (!((buckets[i] as number) > (buckets[i - 1] as number))) throw new Error('histogram buckets must increase');
  return Float64Array.from(buckets);
}

export interface LabelledSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly series: HistogramSeries;
}

/** The shape prom-client's registry formats (`getForPromString`). */
interface PromStringValue {
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
}

// One object: prom-client caches the formatting of shared labels per object.
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

interface PromStringMetric {
  name: string;
  help: string;
  type: 'histogram';
  values: PromStringValue[];
  aggregator: 'sum';
}

/**
 * A prom-client Histogram whose values come from `HistogramSeries` instead of its own map. The
 * registry calls `getForPromString()` for the text format and `get()` (which prom-client builds on
 * `getForPromString()`) for JSON, so both read the same series.
 */
export class ExposedHistogram extends Histogram<string> {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: readonly number[];
  readonly #source: () => Iterable<LabelledSeries>;

  constructor(o: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; registry: Registry; source: () => Iterable<LabelledSeries> }) {
    super({ name: o.name, help: o.help, labelNames: o.labelNames, buckets: [...o.buckets], registers: [o.registry] });
    this.#name = o.name;
    this.#help = o.help;
    this.#bounds = [...o.buckets];
    this.#source = o.source;
  }

  /** Called by prom-client's Registry (text format) and by Histogram.get (JSON). */
  async getForPromString(): Promise<PromStringMetric> {
    const bucketName = `${this.#name}_bucket`;
    const values: PromStringValue[] = [];
    for (const { labels, series } of this.#source()) {
      let acc = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        acc += series.counts[i] as number;
        values.push({ labels: { ...labels, le: this.#bounds[i] as number }, sharedLabels: NO_LABELS, value: acc, metricName: bucketName });
      }
      // +Inf and _count are the same total by construction.
      acc += series.counts[this.#bounds.length] as number;
      values.push({ labels: { ...labels, le: '+Inf' }, sharedLabels: NO_LABELS, value: acc, metricName: bucketName });
      values.push({ labels: { ...labels }, sharedLabels: NO_LABELS, value: series.sum, metricName: `${this.#name}_sum` });
      values.push({ labels: { ...labels }, sharedLabels: NO_LABELS, value: acc, metricName: `${this.#name}_count` });
    }
    return { name: this.#name, help: this.#help, type: 'histogram', values, aggregator: 'sum' };
  }
}
