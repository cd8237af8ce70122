/**
 * Label values the gateway's metrics share with the code that records them, and the bounds that
 * keep a label's cardinality (and a scrape's size) finite whatever the traffic sends.
 */

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

/** A counter series kept by its label values. */
export interface LabelledCount {
  labels: Record<string, string>;
  n: number;
}

/** Counts one `labels`; once `cap` series exist, a new combination counts as all-`(other)`. */
export function bump(map: Map<string, LabelledCount>, cap: number, labels: Record<string, string>): void {
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

/** What the sink metrics read: EventSink with its optional `stats()`. */
export interface SinkStatsSource {
  readonly name: string;
  stats?(): { queued: number; dropped: number };
}

export interface LabelledSinkStats {
  label: string;
  stats: { queued: number; dropped: number };
}

/**
 * The sinks that report stats, each with its `sink` label; a sink whose `stats()` throws is left
 * out of this scrape. Two sinks with the same label (the same URL twice) get `#2`, `#3`, ... so
 * their series stay apart.
 */
export function* labelledSinkStats(sinks: readonly SinkStatsSource[]): Generator<LabelledSinkStats> {
  const seen = new Map<string, number>();
  for (const sink of sinks) {
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

/**
 * A sink's name as a label: a webhook URL may carry credentials (userinfo, query), which must not
 * reach a scrape, so those parts are cut.
 */
export function sinkLabel(name: string): string {
  return name.replace(/\/\/[^/@?#]*@/, '//').replace(/[?#].*$/, '').slice(0, 200);
}
