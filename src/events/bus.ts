import { buildEvent, type EventAction, type EventInput, type SecurityEvent } from './event.js';
import type { EventSink } from './sink.js';

export type EventListener = (event: SecurityEvent) => void;

export interface EventBus {
  emit(input: EventInput): SecurityEvent;
  /** Whether any sink or subscriber would see `action` (lets the hot path skip building events). */
  wants(action: EventAction): boolean;
  /** In-process subscribers (alerts, adaptive limits, admin API). Returns an unsubscribe function. */
  subscribe(listener: EventListener, actions?: readonly EventAction[]): () => void;
  /** The most recent events, newest last (bounded ring). */
  recent(limit?: number): SecurityEvent[];
  /** Replace the sinks (config reload); the old ones are closed. */
  setSinks(sinks: readonly EventSink[]): Promise<void>;
  close(): Promise<void>;
}

export function createEventBus(options: { sinks?: readonly EventSink[]; recentSize?: number } = {}): EventBus {
  let sinks: readonly EventSink[] = options.sinks ?? [];
  const listeners = new Set<{ fn: EventListener; actions: ReadonlySet<EventAction> | undefined }>();
  const size = options.recentSize ?? 1000;
  const ring: SecurityEvent[] = [];
  let next = 0;

  return {
    emit(input) {
      const event = buildEvent(input);
      const line = sinks.length > 0 ? JSON.stringify(event) : '';
      if (ring.length < size) ring.push(event);
      else ring[next] = event;
      next = (next + 1) % size;
      for (const sink of sinks) {
        try {
          sink.write(event, line);
        } catch {
          // A sink failing must never turn into a request failure; sinks report their own faults.
        }
      }
      for (const l of listeners) {
        if (l.actions && !l.actions.has(event.event.action)) continue;
        try {
          l.fn(event);
        } catch {
          // Same rule for subscribers.
        }
      }
      return event;
    },
    wants(action) {
      if (sinks.length > 0) return true;
      for (const l of listeners) if (!l.actions || l.actions.has(action)) return true;
      return false;
    },
    subscribe(fn, actions) {
      const entry = { fn, actions: actions ? new Set(actions) : undefined };
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
    recent(limit = size) {
      const ordered = ring.length < size ? ring.slice() : [...ring.slice(next), ...ring.slice(0, next)];
      return ordered.slice(-limit);
    },
    async setSinks(newSinks) {
      const old = sinks;
      sinks = newSinks;
      await Promise.all(old.filter((s) => !newSinks.includes(s)).map((s) => s.close()));
    },
    async close() {
      await Promise.all(sinks.map((s) => s.close()));
      sinks = [];
      listeners.clear();
    },
  };
}
