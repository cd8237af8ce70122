import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { configSchema } from '../config/schema.js';
import { createEventBus } from '../events/bus.js';
import { createMemoryStore } from '../stores/memory-store.js';
import { createUnregisteredGuard, UNREGISTERED_PATHS_PER_WINDOW } from './unregistered-guard.js';

describe('route.unregistered sampling', () => {
  it('each target once per client and minute, at most N of them; the next event written says how many were left out', () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const events = createEventBus();
    const guard = createUnregisteredGuard(configSchema.parse({ version: 1, upstreams: { u: { url: 'http://127.0.0.1:9' } }, routes: [] }), createMemoryStore(), events);
    try {
      assert.deepEqual(guard.report('a', 'GET /x'), { write: true, suppressed: 0 });
      assert.deepEqual(guard.report('a', 'GET /x'), { write: false, suppressed: 0 }, 'a repeat');
      assert.deepEqual(guard.report('a', 'POST /x'), { write: true, suppressed: 1 }, 'another method is another target; it says one was left out');
      for (let i = 2; i < UNREGISTERED_PATHS_PER_WINDOW; i++) assert.equal(guard.report('a', `GET /p${i}`).write, true);
      assert.equal(guard.report('a', 'GET /one-too-many').write, false, 'past the bound');
      assert.equal(guard.report('b', 'GET /x').write, true, 'another client has its own budget');
      mock.timers.tick(60_001);
      assert.deepEqual(guard.report('a', 'GET /x'), { write: true, suppressed: 1 }, 'a new window: the one past the bound is said');
    } finally {
      guard.close();
      mock.timers.reset();
    }
  });
});
