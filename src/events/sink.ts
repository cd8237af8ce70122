import type { SecurityEvent } from './event.js';

/** Where events go. `write` must not throw and must not block the request path. */
export interface EventSink {
  readonly name: string;
  write(event: SecurityEvent, line: string): void;
  /** Flush buffered lines and release resources. */
  close(): Promise<void>;
}
