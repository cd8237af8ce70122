import type { SpikeSpec } from './rules.js';

/** What one observation says. */
export interface SpikeReading {
  /** Whether this event makes the rate a spike. */
  spike: boolean;
  /** Events of the group in the last `within` (this one included). */
  recent: number;
  /** What the baseline expects in one `within` (moving-average rate x within). */
  expected: number;
}

interface GroupState {
  /** Event counts of the last BUCKETS buckets, a ring indexed by absolute bucket number. */
  counts: number[];
  /** Absolute number (time / width) of the newest bucket. */
  head: number;
  /** Baseline rate, events per ms, over history before the current window. */
  avg: number;
  /** ms of history folded into `avg` (for the bias correction while it is shorter than the baseline). */
  observed: number;
}

const BUCKETS = 10;

/**
 * Spike detection for one rule, in process: the events of a group in the last `within` (a ring
 * of ten buckets, so the window slides in tenths) against an exponentially weighted moving
 * average of the group's rate over `baseline`. Buckets fold into the average as they leave the
 * window, so a spike never raises its own baseline while it is being judged.
 *
 * The average has time constant `baseline` and is bias-corrected while less history than that
 * was seen (it is then the plain mean of what was seen). History counts from when the tracker
 * started, not from a group's first event: an address silent for the last hour had a rate of 0,
 * so its first `min` events in a window are a spike. Nothing fires during the first `within`
 * after the start (no window of history yet), which keeps a restart from alerting on ordinary
 * traffic of an ungrouped rule.
 *
 * Memory is bounded: at most `maxGroups` groups, least recently seen dropped first (a dropped
 * group starts again with a zero baseline).
 */
export class SpikeTracker {
  readonly #spec: SpikeSpec;
  readonly #withinMs: number;
  readonly #width: number;
  readonly #startedAt: number;
  readonly #maxGroups: number;
  readonly #groups = new Map<string, GroupState>();

  constructor(spec: SpikeSpec, withinMs: number, startedAt: number, maxGroups = 10_000) {
    this.#spec = spec;
    this.#withinMs = withinMs;
    this.#width = Math.max(1, Math.ceil(withinMs / BUCKETS));
    this.#startedAt = startedAt;
    this.#maxGroups = maxGroups;
  }

  get size(): number {
    return this.#groups.size;
  }

  /** Records one event of `group` at `now` and says whether the group's rate is now a spike. */
  observe(group: string, now: number): SpikeReading {
    const w = this.#width;
    const idx = Math.floor(now / w);
    let s = this.#groups.get(group);
    if (s) {
      this.#groups.delete(group);
      this.#advance(s, idx);
    } else {
      const windowStart = (idx - BUCKETS + 1) * w;
      s = { counts: new Array<number>(BUCKETS).fill(0), head: idx, avg: 0, observed: Math.max(0, windowStart - this.#startedAt) };
      if (this.#groups.size >= this.#maxGroups) {
        const oldest = this.#groups.keys().next().value;
        if (oldest !== undefined) this.#groups.delete(oldest);
      }
    }
    this.#groups.set(group, s);
    const slot = ((idx % BUCKETS) + BUCKETS) % BUCKETS;
    s.counts[slot] = (s.counts[slot] ?? 0) + 1;
    let recent = 0;
    for (const c of s.counts) recent += c;
    const expected = s.avg * this.#withinMs;
    const warm = now - this.#startedAt >= this.#withinMs;
    return { spike: warm && recent >= this.#spec.min && recent > this.#spec.factor * expected, recent, expected };
  }

  /** Moves the window to bucket `idx`, folding the buckets that leave it into the average. */
  #advance(s: GroupState, idx: number): void {
    if (idx <= s.head) return;
    const steps = idx - s.head;
    const occupied = Math.min(steps, BUCKETS);
    for (let i = 1; i <= occupied; i++) {
      // Bucket head+i reuses the slot of bucket head+i-BUCKETS, which leaves the window now.
      const slot = (((s.head + i) % BUCKETS) + BUCKETS) % BUCKETS;
      this.#fold(s, s.counts[slot] ?? 0);
      s.counts[slot] = 0;
    }
    if (steps > occupied) this.#foldEmpty(s, steps - occupied);
    s.head = idx;
  }

  #fold(s: GroupState, count: number): void {
    const w = this.#width;
    const alpha = w / Math.min(this.#spec.baselineMs, s.observed + w);
    s.avg += alpha * (count / w - s.avg);
    s.observed += w;
  }

  /** `n` empty buckets at once (a long quiet spell costs O(1), not O(n)). */
  #foldEmpty(s: GroupState, n: number): void {
    const w = this.#width;
    const baseline = this.#spec.baselineMs;
    let left = n;
    if (s.observed < baseline) {
      // While history is shorter than the baseline the average is the plain mean.
      const k = Math.min(left, Math.ceil((baseline - s.observed) / w));
      s.avg = s.observed + k * w > 0 ? (s.avg * s.observed) / (s.observed + k * w) : 0;
      s.observed += k * w;
      left -= k;
    }
    if (left > 0) {
      s.avg *= Math.pow(1 - w / baseline, left);
      s.observed += left * w;
    }
  }
}
