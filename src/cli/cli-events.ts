import { dirname } from 'node:path';
import type { BulwarkConfig } from '../config/schema.js';
import { createEventBus, type EventBus } from '../events/bus.js';
import { createSinks } from '../events/create-sinks.js';

/**
 * The event bus of a CLI command: the config's sinks, stdout lines on stderr (stdout carries the
 * command's output), webhook failures reported through the same bus, webhook events queued in the
 * shared queue file (the running gateway delivers what the command could not).
 */
export function createCliEventBus(config: BulwarkConfig): EventBus {
  const bus: EventBus = createEventBus({
    sinks: createSinks(config.events, { stdout: process.stderr, emit: (i) => bus.emit(i), queueDir: dirname(config.state.sqlite.path) }),
  });
  return bus;
}
