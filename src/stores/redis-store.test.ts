import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { runStoreContract } from './contract.test-suite.js';
import { createRedisStore } from './redis-store.js';

// A real Redis on 127.0.0.1:6379 (.ci/run starts one). Each run uses its own prefix.
const url = process.env.BULWARK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
runStoreContract('redis', () => createRedisStore({ url, prefix: `bulwark-test:${randomUUID()}:` }));

describe('redis store deadline', () => {
  it('a reply that arrived while the event loop was busy past the deadline is read, not taken for a timeout', async () => {
    const store = createRedisStore({ url, prefix: `bulwark-test:${randomUUID()}:`, commandTimeoutMs: 50 });
    try {
      await store.set('k', 'v');
      const pending = store.get('k');
      // Let the call send its command (a few microtask turns), then hold the event loop well past
      // the deadline while Redis answers into the socket buffer.
      for (let i = 0; i < 10; i++) await null;
      const until = Date.now() + 400;
      while (Date.now() < until) {
        // a long synchronous stage
      }
      assert.equal(await pending, 'v');
    } finally {
      await store.close();
    }
  });
});
