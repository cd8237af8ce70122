import type { SecurityEvent } from './event.js';

/** Counters a buffering sink exposes for metrics. */
export interface SinkStats {
  /** Events accepted but not yet written or delivered. */
  queued: number;
  /** Events dropped because a bound was reached or the destination failed. */
  dropped: number;
}

/** Where events go. `write` must not throw and must not block the request path. */
export interface EventSink {
  readonly name: string;
  write(event: SecurityEvent, line: string): void;
  /** Flush buffered lines and release resources. */
  close(): Promise<void>;
  /** Queue and drop counters, for sinks that buffer. */
  stats?(): SinkStats;
}
