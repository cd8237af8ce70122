import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventBus } from '../../events/bus.js';
import type { SecurityEvent } from '../../events/event.js';
import { createMemoryStore } from '../../stores/memory-store.js';
import { BanCache, MAX_CACHED_BANS } from './ban-cache.js';
import { Bans, type BanRecord } from './bans.js';

const record = (value: string, untilMs: number): BanRecord => ({ kind: 'ip', value, reason: 'test', until: new Date(untilMs).toISOString(), createdAt: new Date().toISOString() });

describe('BanCache', () => {
  it('keeps a ban until its end, and forgets one the store says is gone', () => {
    const cache = new BanCache(async () => []);
    cache.note({ kind: 'ip', value: '192.0.2.1' }, record('192.0.2.1', Date.now() + 60_000));
    cache.note({ kind: 'ip', value: '192.0.2.2' }, record('192.0.2.2', Date.now() - 1));
    assert.equal(cache.known({ kind: 'ip', value: '192.0.2.1' })?.value, '192.0.2.1');
    assert.equal(cache.known({ kind: 'identity', value: '192.0.2.1' }), undefined, 'kinds are apart');
    assert.equal(cache.known({ kind: 'ip', value: '192.0.2.2' }), undefined, 'an ended ban is never cached');
    cache.note({ kind: 'ip', value: '192.0.2.1' }, undefined);
    assert.equal(cache.known({ kind: 'ip', value: '192.0.2.1' }), undefined);
  });

  it('becomes the store\'s list on refresh, and keeps what it knows when the store fails', async () => {
    let answer: () => Promise<BanRecord[]> = async () => [record('192.0.2.3', Date.now() + 60_000)];
    const cache = new BanCache(() => answer());
    cache.note({ kind: 'ip', value: '192.0.2.9' }, record('192.0.2.9', Date.now() + 60_000));
    await cache.refresh();
    assert.ok(cache.known({ kind: 'ip', value: '192.0.2.3' }));
    assert.equal(cache.known({ kind: 'ip', value: '192.0.2.9' }), undefined, 'lifted elsewhere: gone after the refresh');
    answer = async () => {
      throw new Error('store down');
    };
    await cache.refresh();
    assert.ok(cache.known({ kind: 'ip', value: '192.0.2.3' }), 'a failed read keeps the known bans');
  });

  it('is bounded, counts what it drops and says so once', async () => {
    const bus = createEventBus();
    const seen: SecurityEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    const until = Date.now() + 60_000;
    const cache = new BanCache(async () => Array.from({ length: MAX_CACHED_BANS + 5 }, (_, i) => record(`10.0.${i >> 8}.${i & 255}`, until)), bus);
    await cache.refresh();
    cache.note({ kind: 'ip', value: '203.0.113.1' }, record('203.0.113.1', until));
    assert.equal(cache.size, MAX_CACHED_BANS);
    assert.equal(cache.dropped, 6);
    assert.deepEqual(seen.filter((e) => e.event.reason === 'ban_cache_full').length, 1);
  });
});

describe('Bans.loadAll', () => {
  it('reads every ban through the index, prunes members whose ban is gone, and finds unindexed bans by scan', async () => {
    const store = createMemoryStore();
    const bans = new Bans(store);
    try {
      await bans.add({ kind: 'ip', value: '192.0.2.10' }, 60_000, 'a');
      await bans.add({ kind: 'identity', value: 'user:with:colons' }, 60_000, 'b');
      await bans.add({ kind: 'ip', value: '192.0.2.11' }, 60_000, 'c');
      // Gone behind the index's back (expired by TTL, or deleted by an older version).
      await store.delete('ban:ip:192.0.2.11');
      // Made before the index existed.
      await store.set('ban:ip:192.0.2.12', JSON.stringify(record('192.0.2.12', Date.now() + 60_000)), 60_000);
      const indexed = (await bans.loadAll()).map((r) => `${r.kind}:${r.value}`).sort();
      assert.deepEqual(indexed, ['identity:user:with:colons', 'ip:192.0.2.10']);
      assert.deepEqual((await store.setMembers('banindex')).sort(), ['identity:user:with:colons', 'ip:192.0.2.10'], 'the stale member was pruned');
      const scanned = (await bans.loadAll(true)).map((r) => r.value).sort();
      assert.deepEqual(scanned, ['192.0.2.10', '192.0.2.12', 'user:with:colons']);
      assert.ok((await store.setMembers('banindex')).includes('ip:192.0.2.12'), 'a scanned ban joins the index');
      await bans.remove({ kind: 'ip', value: '192.0.2.10' });
      assert.deepEqual((await store.setMembers('banindex')).sort(), ['identity:user:with:colons', 'ip:192.0.2.12']);
    } finally {
      await store.close();
    }
  });
});
