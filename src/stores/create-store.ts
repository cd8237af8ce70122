import type { Store } from './store.js';
import { createMemoryStore } from './memory-store.js';
import { createSqliteStore } from './sqlite-store.js';

/** The `state` section of the config, as far as choosing a store goes. */
export interface StoreConfig {
  store: 'memory' | 'sqlite' | 'redis';
  sqlite?: { path: string };
}

/** The store named by `state.store`; the only place that maps config to an implementation. */
export function createStore(config: StoreConfig): Store {
  switch (config.store) {
    case 'memory':
      return createMemoryStore();
    case 'sqlite':
      if (!config.sqlite?.path) {
        throw new Error('state.sqlite.path is required when state.store is "sqlite"');
      }
      return createSqliteStore({ path: config.sqlite.path });
    case 'redis':
      throw new Error('state.store "redis" is not available in this build yet');
    default: {
      // Config arrives from YAML, so guard at runtime what the type already rules out.
      const unknown: never = config.store;
      throw new Error(`state.store "${String(unknown)}" is not a known store`);
    }
  }
}
