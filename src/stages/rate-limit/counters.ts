import type { BulwarkConfig } from '../../config/schema.js';
import type { EventBus } from '../../events/bus.js';
import { storeFailurePolicy } from '../../stores/degraded.js';
import { createMemoryStore } from '../../stores/memory-store.js';
import type { HitResult, SpendResult, Store } from '../../stores/store.js';

/** The limiter's view of the state store, with `state.redis.onError` applied. */
export interface Counters {
  /** A sliding-window hit; 'allow' when the store failed and the policy is `allow`. */
  hit(key: string, limit: number, windowMs: number): Promise<HitResult | 'allow'>;
  spend(key: string, amount: number, limit: number, windowMs: number): Promise<SpendResult | 'allow'>;
  /** Settles an entry where it was made (shared store or local fallback); never rejects. */
  settle(key: string, entry: string, amount: number, windowMs: number): Promise<void>;
}

// Entries made in the local fallback carry this mark, so settling them goes to the same place
// even after Redis came back.
const LOCAL = 'local:';

/**
 * When the shared store fails, `local` counts in this process (the budget is per instance until
 * Redis returns), `allow` lets the request through, `deny` (and every non-Redis store) fails the
 * stage, which the route's onError turns into a refusal. Each degraded decision is said in a
 * `stage.error` event, never silently. Every call tries the shared store first, so recovery is
 * automatic.
 */
export function createCounters(config: BulwarkConfig, store: Store, events: EventBus, stage: string): Counters {
  const onFailure = storeFailurePolicy(config, store, events, stage);
  let local: Store | undefined;
  const fallback = () => (local ??= createMemoryStore());
  return {
    async hit(key, limit, windowMs) {
      try {
        return await store.hit(key, limit, windowMs);
      } catch (err) {
        if (onFailure(err) === 'allow') return 'allow';
        return fallback().hit(key, limit, windowMs);
      }
    },
    async spend(key, amount, limit, windowMs) {
      try {
        return await store.spend(key, amount, limit, windowMs);
      } catch (err) {
        if (onFailure(err) === 'allow') return 'allow';
        const r = await fallback().spend(key, amount, limit, windowMs);
        return r.allowed ? { ...r, entry: LOCAL + r.entry } : r;
      }
    },
    async settle(key, entry, amount, windowMs) {
      try {
        if (entry.startsWith(LOCAL)) await fallback().settle(key, entry.slice(LOCAL.length), amount, windowMs);
        else await store.settle(key, entry, amount, windowMs);
      } catch {
        // Settling runs after the answer; a store outage here leaves the entry as spent (the
        // estimate, or a lease that expires on its own): conservative, never an open door.
      }
    },
  };
}
