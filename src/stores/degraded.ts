import type { BulwarkConfig } from '../config/schema.js';
import type { EventBus } from '../events/bus.js';
import type { Store } from './store.js';

export type StorePolicy = 'local' | 'deny' | 'allow';

/**
 * What a stage does when the shared store fails: `state.redis.onError` for Redis (local, deny,
 * allow), always `deny` for the other stores (a local file or memory failing is a bug, not an
 * outage). `deny` rethrows, so the route's onError refuses the request; otherwise the caller
 * degrades and a `stage.error` event says so (at most every 10 s per stage), never silently.
 */
export function storeFailurePolicy(config: BulwarkConfig, store: Store, events: EventBus, stage: string): (err: unknown) => Exclude<StorePolicy, 'deny'> {
  const policy: StorePolicy = store.kind === 'redis' ? config.state.redis.onError : 'deny';
  let lastReport = 0;
  return (err) => {
    if (policy === 'deny') throw err;
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      events.emit({ action: 'stage.error', severity: 'high', outcome: 'failure', stage, reason: `store_unavailable_${policy}`, message: `state store unavailable; ${stage} ${policy === 'local' ? 'works per instance' : 'is skipped'} until it returns` });
    }
    return policy;
  };
}
