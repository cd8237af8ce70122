/**
 * The state store could not answer in time (unreachable, hung, locked by another process). Stores
 * throw this instead of their driver's error, so the failure policy (`state.redis.onError`, the
 * route's `onError`) and the `stage.error` event can tell an outage from a bug by type, not by
 * matching driver messages. The message names the store and the kind of failure, never a key.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE';
  readonly store: 'sqlite' | 'redis';
  constructor(store: 'sqlite' | 'redis', what: string, options?: { cause?: unknown }) {
    super(`${store} state store unavailable: ${what}`, options);
    this.store = store;
  }
}

export function isStoreUnavailable(err: unknown): err is StoreUnavailableError {
  return err instanceof StoreUnavailableError;
}
