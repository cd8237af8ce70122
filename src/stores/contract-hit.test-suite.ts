import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from './store.js';

/** The `hit` (sliding-window log) part of the Store contract; run by runStoreContract. */
export function describeHitContract(getStore: () => Store, prefix: () => string, timing: { ttl: number; wait: number }): void {
  describe('hit (sliding-window log)', () => {
    it('records up to the limit, then refuses with the wait until the oldest event leaves', async () => {
      const k = `${prefix()}hits`;
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await getStore().hit(k, 3, 10_000));
      assert.deepEqual(results.map((r) => r.allowed), [true, true, true, false]);
      assert.deepEqual(results.map((r) => r.count), [1, 2, 3, 3]);
      const last = results[3];
      assert.ok(last && last.resetMs > 9_000 && last.resetMs <= 10_000, `resetMs ${last?.resetMs}`);
    });

    it('is atomic: 100 concurrent hits with limit 30 record exactly 30', async () => {
      const k = `${prefix()}burst`;
      const results = await Promise.all(Array.from({ length: 100 }, () => getStore().hit(k, 30, 10_000)));
      assert.equal(results.filter((r) => r.allowed).length, 30);
    });

    it('slides: events older than the window no longer count', async () => {
      const k = `${prefix()}slide`;
      assert.equal((await getStore().hit(k, 1, timing.ttl)).allowed, true);
      assert.equal((await getStore().hit(k, 1, timing.ttl)).allowed, false);
      await sleep(timing.wait);
      assert.equal((await getStore().hit(k, 1, timing.ttl)).allowed, true);
    });

    it('keeps keys apart and out of the key listing', async () => {
      const p = prefix();
      assert.equal((await getStore().hit(`${p}a`, 1, 10_000)).allowed, true);
      assert.equal((await getStore().hit(`${p}b`, 1, 10_000)).allowed, true);
      assert.deepEqual(await getStore().keys(p), []);
      assert.equal(await getStore().get(`${p}a`), undefined);
    });
  });
}
