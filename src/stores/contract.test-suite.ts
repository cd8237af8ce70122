import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from './store.js';
import { describeHitContract } from './contract-hit.test-suite.js';
import { describeSpendContract } from './contract-spend.test-suite.js';

// Short enough to keep the suite quick, long enough that a loaded CI machine still reads a
// fresh entry before it lapses; WAIT leaves a clear margin past TTL.
const TTL = 50;
const WAIT = 90;

const byCodeUnit = (values: string[]): string[] => [...values].sort();

/**
 * The behaviour every `Store` must share. Each implementation's test file calls this once
 * per configuration; `make` may return stores that share data (e.g. one SQLite file), so
 * every test works under its own key prefix.
 */
export function runStoreContract(name: string, make: () => Promise<Store> | Store): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const run = randomUUID();
    let next = 0;
    const prefix = (): string => `contract:${run}:${next++}:`;

    before(async () => {
      store = await make();
    });
    after(async () => {
      await store.close();
    });

    it('names its kind', () => {
      assert.ok(['memory', 'sqlite', 'redis'].includes(store.kind));
    });

    describe('get / set', () => {
      it('returns undefined for a missing key', async () => {
        assert.equal(await store.get(`${prefix()}missing`), undefined);
      });

      it('reads back what was set, and overwrites', async () => {
        const key = `${prefix()}k`;
        await store.set(key, 'one');
        assert.equal(await store.get(key), 'one');
        await store.set(key, 'two');
        assert.equal(await store.get(key), 'two');
      });

      it('keeps strings exactly, including empty and non-ASCII', async () => {
        const p = prefix();
        await store.set(`${p}empty`, '');
        await store.set(`${p}text`, 'zürich 🐻 "quoted"\n');
        assert.equal(await store.get(`${p}empty`), '');
        assert.equal(await store.get(`${p}text`), 'zürich 🐻 "quoted"\n');
      });

      it('expires a value after its TTL', async () => {
        const key = `${prefix()}k`;
        await store.set(key, 'v', TTL);
        assert.equal(await store.get(key), 'v');
        await sleep(WAIT);
        assert.equal(await store.get(key), undefined);
      });

      it('replaces the TTL on overwrite', async () => {
        const p = prefix();
        await store.set(`${p}drop`, 'v', TTL);
        await store.set(`${p}drop`, 'v2');
        await store.set(`${p}add`, 'v');
        await store.set(`${p}add`, 'v2', TTL);
        assert.equal(await store.ttl(`${p}drop`), Infinity);
        await sleep(WAIT);
        assert.equal(await store.get(`${p}drop`), 'v2');
        assert.equal(await store.get(`${p}add`), undefined);
      });

      it('rejects a zero, negative or non-finite TTL', async () => {
        const key = `${prefix()}k`;
        for (const ttl of [0, -1, Infinity, Number.NaN]) {
          await assert.rejects(store.set(key, 'v', ttl), RangeError);
        }
        assert.equal(await store.get(key), undefined);
      });
    });

    describe('setIfAbsent', () => {
      it('stores only when absent', async () => {
        const key = `${prefix()}k`;
        assert.equal(await store.setIfAbsent(key, 'first'), true);
        assert.equal(await store.setIfAbsent(key, 'second'), false);
        assert.equal(await store.get(key), 'first');
      });

      it('treats an expired key as absent, and applies its own TTL', async () => {
        const key = `${prefix()}k`;
        assert.equal(await store.setIfAbsent(key, 'old', TTL), true);
        await sleep(WAIT);
        assert.equal(await store.setIfAbsent(key, 'new', TTL), true);
        assert.equal(await store.get(key), 'new');
        const ttl = await store.ttl(key);
        assert.ok(ttl !== undefined && ttl > 0 && ttl <= TTL, `ttl ${ttl}`);
      });

      it('lets exactly one of many concurrent callers win', async () => {
        const key = `${prefix()}lock`;
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.setIfAbsent(key, `owner-${i}`)),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(await store.get(key), `owner-${results.indexOf(true)}`);
      });
    });

    describe('delete', () => {
      it('removes a value and reports whether anything was there', async () => {
        const key = `${prefix()}k`;
        await store.set(key, 'v');
        assert.equal(await store.delete(key), true);
        assert.equal(await store.get(key), undefined);
        assert.equal(await store.delete(key), false);
      });

      it('removes a counter, which then restarts at 0', async () => {
        const key = `${prefix()}c`;
        await store.increment(key, 5);
        assert.equal(await store.delete(key), true);
        assert.equal(await store.increment(key), 1);
      });

      it('removes a whole set', async () => {
        const key = `${prefix()}s`;
        await store.setAdd(key, ['a', 'b']);
        assert.equal(await store.delete(key), true);
        assert.deepEqual(await store.setMembers(key), []);
        assert.equal(await store.ttl(key), undefined);
      });

      it('reports false for an entry that already expired', async () => {
        const p = prefix();
        await store.set(`${p}v`, 'v', TTL);
        await store.setAdd(`${p}s`, ['a'], TTL);
        await sleep(WAIT);
        assert.equal(await store.delete(`${p}v`), false);
        assert.equal(await store.delete(`${p}s`), false);
      });
    });

    describe('increment', () => {
      it('starts at 0 and adds 1 by default', async () => {
        const key = `${prefix()}c`;
        assert.equal(await store.increment(key), 1);
        assert.equal(await store.increment(key), 2);
      });

      it('adds any integer step, including negative ones', async () => {
        const key = `${prefix()}c`;
        assert.equal(await store.increment(key, 5), 5);
        assert.equal(await store.increment(key, -8), -3);
        assert.equal(await store.increment(key, 0), -3);
        assert.equal(await store.increment(`${prefix()}neg`, -2), -2);
      });

      it('exposes the counter as a decimal string through get', async () => {
        const key = `${prefix()}c`;
        await store.increment(key, 41);
        await store.increment(key);
        assert.equal(await store.get(key), '42');
      });

      it('continues a counter that was set as an integer string', async () => {
        const key = `${prefix()}c`;
        await store.set(key, '-10');
        assert.equal(await store.increment(key, 3), -7);
      });

      it('rejects a key that holds a non-integer value and leaves it unchanged', async () => {
        const key = `${prefix()}c`;
        for (const value of ['abc', '1.5', '', ' 7', '1e3', '007']) {
          await store.set(key, value);
          await assert.rejects(store.increment(key), TypeError, `value ${JSON.stringify(value)}`);
          assert.equal(await store.get(key), value);
        }
      });

      it('rejects a fractional or unsafe step', async () => {
        const key = `${prefix()}c`;
        await assert.rejects(store.increment(key, 1.5), RangeError);
        await assert.rejects(store.increment(key, Number.MAX_SAFE_INTEGER + 2), RangeError);
        assert.equal(await store.get(key), undefined);
      });

      it('sets the TTL only when it creates the counter', async () => {
        const key = `${prefix()}c`;
        assert.equal(await store.increment(key, 1, TTL), 1);
        assert.equal(await store.increment(key, 1, 60_000), 2);
        const ttl = await store.ttl(key);
        assert.ok(ttl !== undefined && ttl > 0 && ttl <= TTL, `ttl ${ttl}`);
        await sleep(WAIT);
        assert.equal(await store.get(key), undefined);
      });

      it('does not give an existing counter without expiry a TTL', async () => {
        const key = `${prefix()}c`;
        await store.increment(key);
        await store.increment(key, 1, TTL);
        assert.equal(await store.ttl(key), Infinity);
      });

      it('restarts at 0 once the counter expired, with the new call\'s TTL', async () => {
        const key = `${prefix()}c`;
        await store.increment(key, 1, TTL);
        await store.increment(key, 1, TTL);
        await sleep(WAIT);
        assert.equal(await store.increment(key), 1);
        assert.equal(await store.ttl(key), Infinity);
      });

      it('counts 200 concurrent increments exactly, each seeing a distinct value', async () => {
        const key = `${prefix()}c`;
        const results = await Promise.all(Array.from({ length: 200 }, () => store.increment(key)));
        assert.equal(await store.get(key), '200');
        assert.deepEqual(
          [...results].sort((a, b) => a - b),
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
      });
    });

    describe('sets', () => {
      it('returns an empty list for a missing set', async () => {
        assert.deepEqual(await store.setMembers(`${prefix()}s`), []);
      });

      it('adds members and reports how many were new', async () => {
        const key = `${prefix()}s`;
        assert.equal(await store.setAdd(key, ['a', 'b']), 2);
        assert.equal(await store.setAdd(key, ['b', 'c']), 1);
        assert.equal(await store.setAdd(key, ['d', 'd']), 1);
        assert.equal(await store.setAdd(key, []), 0);
        assert.deepEqual(byCodeUnit(await store.setMembers(key)), ['a', 'b', 'c', 'd']);
      });

      it('removes members and reports how many were there', async () => {
        const key = `${prefix()}s`;
        await store.setAdd(key, ['a', 'b', 'c']);
        assert.equal(await store.setRemove(key, ['a', 'x']), 1);
        assert.equal(await store.setRemove(key, []), 0);
        assert.equal(await store.setRemove(`${prefix()}missing`, ['a']), 0);
        assert.deepEqual(byCodeUnit(await store.setMembers(key)), ['b', 'c']);
      });

      it('drops a set once its last member is removed', async () => {
        const key = `${prefix()}s`;
        await store.setAdd(key, ['a']);
        assert.equal(await store.setRemove(key, ['a']), 1);
        assert.equal(await store.ttl(key), undefined);
        assert.deepEqual(await store.keys(key), []);
      });

      it('expires the whole set after its TTL', async () => {
        const key = `${prefix()}s`;
        await store.setAdd(key, ['a', 'b'], TTL);
        const ttl = await store.ttl(key);
        assert.ok(ttl !== undefined && ttl > 0 && ttl <= TTL, `ttl ${ttl}`);
        await sleep(WAIT);
        assert.deepEqual(await store.setMembers(key), []);
        assert.equal(await store.ttl(key), undefined);
        assert.equal(await store.setRemove(key, ['a']), 0);
      });

      it('keeps the expiry when adding without a TTL, and refreshes it with one', async () => {
        const p = prefix();
        await store.setAdd(`${p}kept`, ['a'], TTL);
        await store.setAdd(`${p}kept`, ['b']);
        await store.setAdd(`${p}refreshed`, ['a'], TTL);
        await store.setAdd(`${p}refreshed`, [], 60_000);
        const refreshed = await store.ttl(`${p}refreshed`);
        assert.ok(refreshed !== undefined && refreshed > TTL, `ttl ${refreshed}`);
        await sleep(WAIT);
        assert.deepEqual(await store.setMembers(`${p}kept`), []);
        assert.deepEqual(await store.setMembers(`${p}refreshed`), ['a']);
      });

      it('starts a fresh set after expiry, without the old members or expiry', async () => {
        const key = `${prefix()}s`;
        await store.setAdd(key, ['a', 'b'], TTL);
        await sleep(WAIT);
        assert.equal(await store.setAdd(key, ['a', 'c']), 2);
        assert.deepEqual(byCodeUnit(await store.setMembers(key)), ['a', 'c']);
        assert.equal(await store.ttl(key), Infinity);
      });
    });

    describe('ttl', () => {
      it('is undefined for a missing key', async () => {
        assert.equal(await store.ttl(`${prefix()}missing`), undefined);
      });

      it('is Infinity for values, counters and sets without expiry', async () => {
        const p = prefix();
        await store.set(`${p}v`, 'v');
        await store.increment(`${p}c`);
        await store.setAdd(`${p}s`, ['a']);
        assert.equal(await store.ttl(`${p}v`), Infinity);
        assert.equal(await store.ttl(`${p}c`), Infinity);
        assert.equal(await store.ttl(`${p}s`), Infinity);
      });

      it('is the remaining milliseconds, then undefined once expired', async () => {
        const key = `${prefix()}v`;
        await store.set(key, 'v', 10_000);
        const ttl = await store.ttl(key);
        assert.ok(ttl !== undefined && ttl > 9_000 && ttl <= 10_000, `ttl ${ttl}`);
        await store.set(key, 'v', TTL);
        await sleep(WAIT);
        assert.equal(await store.ttl(key), undefined);
      });
    });

    describeHitContract(() => store, prefix, { ttl: TTL, wait: WAIT });
    describeSpendContract(() => store, prefix, { ttl: TTL, wait: WAIT });

    describe('keys', () => {
      it('lists values, counters and sets under a prefix, sorted', async () => {
        const p = prefix();
        await store.setAdd(`${p}c-set`, ['m']);
        await store.set(`${p}a-value`, 'v');
        await store.increment(`${p}b-counter`);
        await store.set(`${p.slice(0, -1)}-outside`, 'v');
        assert.deepEqual(await store.keys(p), [`${p}a-value`, `${p}b-counter`, `${p}c-set`]);
      });

      it('honours the limit after sorting', async () => {
        const p = prefix();
        for (const k of ['d', 'b', 'e', 'a', 'c']) await store.set(`${p}${k}`, 'v');
        assert.deepEqual(await store.keys(p, 3), [`${p}a`, `${p}b`, `${p}c`]);
        assert.deepEqual(await store.keys(p, 0), []);
      });

      it('returns at most 1000 keys by default', async () => {
        const p = prefix();
        await Promise.all(Array.from({ length: 1005 }, (_, i) => store.set(`${p}${i}`, 'v')));
        assert.equal((await store.keys(p)).length, 1000);
      });

      it('excludes expired keys', async () => {
        const p = prefix();
        await store.set(`${p}live`, 'v');
        await store.set(`${p}value`, 'v', TTL);
        await store.increment(`${p}counter`, 1, TTL);
        await store.setAdd(`${p}set`, ['m'], TTL);
        await sleep(WAIT);
        assert.deepEqual(await store.keys(p), [`${p}live`]);
      });

      it('matches the prefix literally, with no wildcard characters', async () => {
        const p = prefix();
        await store.set(`${p}a%b`, 'v');
        await store.set(`${p}a_b`, 'v');
        await store.set(`${p}axb`, 'v');
        await store.set(`${p}A%b`, 'v');
        assert.deepEqual(await store.keys(`${p}a%`), [`${p}a%b`]);
        assert.deepEqual(await store.keys(`${p}a_`), [`${p}a_b`]);
      });

      it('sorts by code point, so every implementation agrees past the BMP', async () => {
        const p = prefix();
        // UTF-16 code-unit order would put the emoji (a surrogate pair) before U+FFFD.
        await store.set(`${p}\u{1F600}`, 'v');
        await store.set(`${p}\uFFFD`, 'v');
        await store.set(`${p}z`, 'v');
        assert.deepEqual(await store.keys(p), [`${p}z`, `${p}\uFFFD`, `${p}\u{1F600}`]);
        assert.deepEqual(await store.keys(`${p}\u{1F600}`), [`${p}\u{1F600}`]);
      });
    });

    describe('close', () => {
      it('closes idempotently, after which the store rejects calls', async () => {
        const own = await make();
        await own.set(`${prefix()}k`, 'v');
        await own.close();
        await own.close();
        await assert.rejects(own.get(`${prefix()}k`));
      });
    });
  });
}
