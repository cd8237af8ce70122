import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from './store.js';

/** The `spend`/`settle` (weighted sliding window) part of the Store contract; run by runStoreContract. */
export function describeSpendContract(getStore: () => Store, prefix: () => string, timing: { ttl: number; wait: number }): void {
  describe('spend / settle (weighted sliding window)', () => {
    const W = 10_000;

    it('records entries up to the limit by amount, then refuses with the total unchanged', async () => {
      const k = `${prefix()}budget`;
      const a = await getStore().spend(k, 60, 100, W);
      assert.equal(a.allowed, true);
      assert.equal(a.total, 60);
      assert.equal(a.resetMs, 0);
      assert.ok(a.entry.length > 0, 'an allowed spend returns an entry handle');

      const refused = await getStore().spend(k, 50, 100, W);
      assert.equal(refused.allowed, false);
      assert.equal(refused.total, 60);
      assert.equal(refused.entry, '');

      const b = await getStore().spend(k, 40, 100, W);
      assert.deepEqual([b.allowed, b.total, b.resetMs], [true, 100, 0]);
      assert.notEqual(b.entry, a.entry);

      const zero = await getStore().spend(k, 0, 100, W);
      assert.deepEqual([zero.allowed, zero.total], [true, 100]);
      const one = await getStore().spend(k, 1, 100, W);
      assert.deepEqual([one.allowed, one.total, one.entry], [false, 100, '']);
    });

    it('refuses with the wait until enough of the oldest entries leave', async () => {
      const k = `${prefix()}reset`;
      assert.equal((await getStore().spend(k, 50, 100, W)).allowed, true);
      await sleep(40);
      assert.equal((await getStore().spend(k, 50, 100, W)).allowed, true);
      // 10 fits once the first entry leaves; 60 only once both have.
      const first = await getStore().spend(k, 10, 100, W);
      const both = await getStore().spend(k, 60, 100, W);
      assert.equal(first.allowed, false);
      assert.ok(first.resetMs > W - 1_000 && first.resetMs <= W, `resetMs ${first.resetMs}`);
      assert.equal(both.allowed, false);
      assert.ok(both.resetMs > W - 1_000 && both.resetMs <= W, `resetMs ${both.resetMs}`);
      assert.ok(both.resetMs - first.resetMs >= 25, `first ${first.resetMs}, both ${both.resetMs}`);
    });

    it('refuses an amount above the limit with the whole window as the wait', async () => {
      const k = `${prefix()}huge`;
      const empty = await getStore().spend(k, 101, 100, W);
      assert.deepEqual(empty, { allowed: false, total: 0, resetMs: W, entry: '' });
      await getStore().spend(k, 30, 100, W);
      const used = await getStore().spend(k, 101, 100, W);
      assert.deepEqual(used, { allowed: false, total: 30, resetMs: W, entry: '' });
      assert.deepEqual(await getStore().spend(`${prefix()}none`, 1, 0, W), { allowed: false, total: 0, resetMs: W, entry: '' });
    });

    it('is atomic: 100 concurrent spends of 3 with limit 90 record exactly 30', async () => {
      const k = `${prefix()}burst`;
      const results = await Promise.all(Array.from({ length: 100 }, () => getStore().spend(k, 3, 90, W)));
      const allowed = results.filter((r) => r.allowed);
      assert.equal(allowed.length, 30);
      assert.equal(new Set(allowed.map((r) => r.entry)).size, 30, 'entry handles are unique');
      assert.deepEqual([...allowed.map((r) => r.total)].sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => (i + 1) * 3));
      assert.equal(await getStore().settle(k, '', 0, W), 90);
    });

    it('settles an entry down (refund) so a later spend fits, and up (over-spend) past the limit', async () => {
      const k = `${prefix()}settle`;
      const estimate = await getStore().spend(k, 80, 100, W);
      assert.equal((await getStore().spend(k, 30, 100, W)).allowed, false);

      assert.equal(await getStore().settle(k, estimate.entry, 50, W), 50);
      const later = await getStore().spend(k, 30, 100, W);
      assert.deepEqual([later.allowed, later.total], [true, 80]);

      assert.equal(await getStore().settle(k, estimate.entry, 100, W), 130);
      const zero = await getStore().spend(k, 0, 100, W);
      assert.equal(zero.allowed, false, 'an over-spent window refuses even a zero-amount spend');
      assert.equal(zero.total, 130);
      assert.ok(zero.resetMs > 0 && zero.resetMs <= W, `resetMs ${zero.resetMs}`);

      // Releasing (amount 0) keeps the other entry.
      assert.equal(await getStore().settle(k, estimate.entry, 0, W), 30);
      assert.equal((await getStore().spend(k, 70, 100, W)).total, 100);
    });

    it('ignores a settle for an unknown entry or one from another key', async () => {
      const p = prefix();
      const a = await getStore().spend(`${p}a`, 10, 100, W);
      await getStore().spend(`${p}b`, 20, 100, W);
      assert.equal(await getStore().settle(`${p}b`, a.entry, 90, W), 20);
      assert.equal(await getStore().settle(`${p}a`, 'no-such-entry', 90, W), 10);
      assert.equal(await getStore().settle(`${p}a`, '_sum', 90, W), 10);
      assert.equal(await getStore().settle(`${p}missing`, a.entry, 90, W), 0);
      assert.equal((await getStore().spend(`${p}a`, 0, 100, W)).total, 10);
    });

    it('does not revive an entry that left the window', async () => {
      const k = `${prefix()}expired`;
      const old = await getStore().spend(k, 10, 100, timing.ttl);
      await sleep(timing.wait);
      const fresh = await getStore().spend(k, 5, 100, timing.ttl);
      assert.deepEqual([fresh.allowed, fresh.total], [true, 5]);
      assert.equal(await getStore().settle(k, old.entry, 40, timing.ttl), 5);
      assert.equal((await getStore().spend(k, 95, 100, timing.ttl)).total, 100);
    });

    it('slides: units older than the window no longer count', async () => {
      const k = `${prefix()}slide`;
      assert.equal((await getStore().spend(k, 10, 10, timing.ttl)).allowed, true);
      assert.equal((await getStore().spend(k, 1, 10, timing.ttl)).allowed, false);
      await sleep(timing.wait);
      const after = await getStore().spend(k, 10, 10, timing.ttl);
      assert.deepEqual([after.allowed, after.total], [true, 10]);
    });

    it('keeps keys apart, out of the key listing and apart from values and hit logs', async () => {
      const p = prefix();
      assert.equal((await getStore().spend(`${p}a`, 1, 1, W)).allowed, true);
      assert.equal((await getStore().spend(`${p}b`, 1, 1, W)).allowed, true);
      assert.deepEqual(await getStore().keys(p), []);
      assert.equal(await getStore().get(`${p}a`), undefined);
      assert.equal(await getStore().delete(`${p}a`), false);
      assert.equal((await getStore().spend(`${p}a`, 1, 1, W)).allowed, false, 'delete does not clear a spend window');
      assert.equal((await getStore().hit(`${p}a`, 1, W)).allowed, true);
      await getStore().set(`${p}a`, 'value');
      assert.equal(await getStore().get(`${p}a`), 'value');
      assert.equal((await getStore().spend(`${p}a`, 0, 1, W)).total, 1);
    });

    it('rejects a negative, fractional or unsafe amount or limit, and a bad window, recording nothing', async () => {
      const k = `${prefix()}invalid`;
      for (const amount of [-1, 1.5, Number.NaN, Infinity, Number.MAX_SAFE_INTEGER + 2]) {
        await assert.rejects(getStore().spend(k, amount, 100, W), RangeError, `amount ${amount}`);
      }
      for (const limit of [-1, 2.5, Number.NaN]) {
        await assert.rejects(getStore().spend(k, 1, limit, W), RangeError, `limit ${limit}`);
      }
      for (const windowMs of [0, -1, Infinity, Number.NaN]) {
        await assert.rejects(getStore().spend(k, 1, 100, windowMs), RangeError, `windowMs ${windowMs}`);
      }
      const e = await getStore().spend(k, 1, 100, W);
      assert.equal(e.total, 1);
      for (const amount of [-1, 0.5]) {
        await assert.rejects(getStore().settle(k, e.entry, amount, W), RangeError, `settle amount ${amount}`);
      }
      await assert.rejects(getStore().settle(k, e.entry, 1, 0), RangeError);
      assert.equal(await getStore().settle(k, e.entry, 1, W), 1);
    });
  });
}
