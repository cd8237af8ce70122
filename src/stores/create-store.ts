import type { Store } from './store.js';
import { createMemoryStore } from './memory-store.js';
import { createSqliteStore } from './sqlite-store.js';
import { createRedisStore } from './redis-store.js';

/** The `state` section of the config, as far as choosing a store goes. */
export interface StoreConfig {
  store: 'memory' | 'sqlite' | 'redis';
  sqlite?: { path: string; busyTimeout?: number };
  redis?: { url: string; prefix: string; commandTimeout?: number };
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
      return createSqliteStore({ path: config.sqlite.path, ...(config.sqlite.busyTimeout !== undefined ? { busyTimeoutMs: config.sqlite.busyTimeout } : {}) });
    case 'redis':
      if (!config.redis?.url) throw new Error('state.redis.url is required when state.store is "redis"');
      return createRedisStore({ url: config.redis.url, prefix: config.redis.prefix, ...(config.redis.commandTimeout !== undefined ? { commandTimeoutMs: config.redis.commandTimeout } : {}) });
    default: {
      // Config arrives from YAML, so guard at runtime what the type already rules out.
      const unknown: never = config.store;
      throw new Error(`state.store "${String(unknown)}" is not a known store`);
    }
  }
}
