import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryStore } from '../../stores/memory-store.js';
import type { Store } from '../../stores/store.js';
import { setThrottle, throttleFactor } from '../../stages/rate-limit/penalty.js';

/** Another "instance" on the same shared store: a distinct Store object over the same data. */
function instance(shared: Store, counter: { reads: number }): Store {
  return {
    ...shared,
    kind: 'redis',
    setMembers: (key) => {
      counter.reads++;
      return shared.setMembers(key);
    },
  };
}

it('a throttle applied by one instance reaches another sharing the store within the refresh interval', async () => {
  const shared = createMemoryStore();
  const reads = { reads: 0 };
  const a = instance(shared, reads);
  const b = instance(shared, reads);
  try {
    assert.equal(throttleFactor(b, '10.9.0.1', undefined), 1);
    await setThrottle(a, { kind: 'ip', value: '10.9.0.1' }, 0.25, 60_000);
    assert.equal(throttleFactor(a, '10.9.0.1', undefined), 0.25, 'at once where it was applied');
    // b read the index on its first check (before the throttle existed); the next read is due in 2 s.
    assert.equal(throttleFactor(b, '10.9.0.1', undefined), 1);
    const before = reads.reads;
    for (let i = 0; i < 1000; i++) throttleFactor(b, '10.9.0.1', undefined);
    assert.ok(reads.reads - before <= 1, 'no store read per request');
    await sleep(2_100);
    throttleFactor(b, '10.9.0.1', undefined);
    await sleep(20);
    assert.equal(throttleFactor(b, '10.9.0.1', undefined), 0.25);
    assert.equal(throttleFactor(b, '10.9.0.2', undefined), 1);
  } finally {
    await shared.close();
  }
});

it('with the memory store the check never reads the store', async () => {
  const store = createMemoryStore();
  let reads = 0;
  const spied: Store = { ...store, setMembers: (k) => (reads++, store.setMembers(k)) };
  try {
    for (let i = 0; i < 100; i++) assert.equal(throttleFactor(spied, '10.9.1.1', 'x'), 1);
    await setThrottle(spied, { kind: 'identity', value: 'x' }, 0.5, 50);
    assert.equal(throttleFactor(spied, '10.9.1.1', 'x'), 0.5);
    assert.equal(throttleFactor(spied, '10.9.1.1', undefined), 1);
    await sleep(70);
    assert.equal(throttleFactor(spied, '10.9.1.1', 'x'), 1);
    assert.equal(reads, 0);
    await assert.rejects(setThrottle(spied, { kind: 'ip', value: 'y' }, 0, 1000), RangeError);
  } finally {
    await store.close();
  }
});
