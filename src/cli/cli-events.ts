import { dirname } from 'node:path';
import type { BulwarkConfig } from '../config/schema.js';
import { createEventBus, type EventBus } from '../events/bus.js';
import { createSinks } from '../events/create-sinks.js';
import { createStore } from '../stores/create-store.js';
import type { Store } from '../stores/store.js';
import { loadOrExit } from './load-or-exit.js';

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

/**
 * Runs a CLI command body with the configured store and event bus, closing both afterwards (a
 * command that leaves a Redis connection or a webhook queue open never exits). `shared` names
 * what the command manages when that only makes sense on a store gateways share.
 */
export async function withCliState<T>(configPath: string, fn: (s: { config: BulwarkConfig; store: Store; events: EventBus }) => Promise<T>, shared?: string): Promise<T> {
  const { config } = loadOrExit(configPath);
  // With the memory store each gateway process holds its own state: a command that lists or
  // changes it from here would report on, or change, nothing any gateway uses.
  if (shared !== undefined && config.state.store === 'memory') {
    throw new Error(`state.store is memory: ${shared} live inside each running gateway process, so this command cannot see or change them. Use state.store sqlite or redis to manage them from the CLI`);
  }
  const store = createStore(config.state);
  const events = createCliEventBus(config);
  try {
    return await fn({ config, store, events });
  } finally {
    await store.close();
    await events.close();
  }
}
