import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMemoryQueue, openWebhookQueue, type WebhookQueue } from './webhook-queue.js';

const ev = (i: number) => ({ id: `id-${i}`, line: `{"n":${i}}`, createdAt: 1000 + i });

function contract(name: string, open: () => WebhookQueue) {
  describe(`webhook queue (${name})`, () => {
    it('claims oldest first, leases, retries later, removes', () => {
      const q = open();
      assert.equal(q.add([ev(1), ev(2), ev(3)]), 0);
      assert.equal(q.size(), 3);
      const a = q.claim(2, 0, 100);
      assert.deepEqual(a.map((r) => r.id), ['id-1', 'id-2']);
      assert.deepEqual(q.claim(5, 50, 10_000).map((r) => r.id), ['id-3'], 'leased rows are not claimable');
      q.retry(a.map((r) => r.seq), 500);
      assert.deepEqual(q.claim(5, 400, 1000).map((r) => r.id), [], 'not before the retry time');
      const b = q.claim(5, 500, 1000);
      assert.deepEqual(b.map((r) => [r.id, r.attempts]), [['id-1', 1], ['id-2', 1]]);
      q.remove(b.map((r) => r.seq));
      assert.equal(q.size(), 1);
      q.release(q.claim(5, 20_000, 30_000).map((r) => r.seq));
      assert.deepEqual(q.claim(5, 20_000, 30_000).map((r) => r.id), ['id-3']);
      q.close();
    });

    it('bounded: the oldest rows go first and are counted', () => {
      const q = open();
      assert.equal(q.add([ev(1), ev(2), ev(3), ev(4), ev(5)]), 0);
      assert.equal(q.add([ev(6), ev(7), ev(8), ev(9), ev(10), ev(11), ev(12)]), 2);
      assert.equal(q.size(), 10);
      assert.deepEqual(q.claim(100, 0, 1).map((r) => r.id), Array.from({ length: 10 }, (_, i) => `id-${i + 3}`));
      q.close();
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'bulwark-wq-'));
let n = 0;
contract('memory', () => createMemoryQueue(10));
contract('sqlite', () => openWebhookQueue({ path: join(dir, `q${n++}.db`), queue: 'k', maxEvents: 10 }));

describe('webhook queue (sqlite specifics)', () => {
  it('survives reopening; queues in one file are separate; the file is 0600', () => {
    const path = join(dir, 'shared.db');
    const a = openWebhookQueue({ path, queue: 'a', maxEvents: 10 });
    assert.equal(a.kind, 'sqlite');
    a.add([ev(1), ev(2)]);
    const b = openWebhookQueue({ path, queue: 'b', maxEvents: 10 });
    b.add([ev(3)]);
    a.close();
    b.close();
    const a2 = openWebhookQueue({ path, queue: 'a', maxEvents: 10 });
    assert.equal(a2.size(), 2);
    assert.deepEqual(a2.claim(10, 0, 1).map((r) => r.id), ['id-1', 'id-2']);
    a2.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('two connections on one file never claim the same row', () => {
    const path = join(dir, 'two.db');
    const a = openWebhookQueue({ path, queue: 'k', maxEvents: 1000 });
    const b = openWebhookQueue({ path, queue: 'k', maxEvents: 1000 });
    a.add(Array.from({ length: 100 }, (_, i) => ev(i)));
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) for (const q of [a, b]) for (const r of q.claim(3, 0, 1e15)) {
      assert.ok(!seen.has(r.id));
      seen.add(r.id);
    }
    assert.equal(seen.size, 100);
    a.close();
    b.close();
  });

  it('falls back to memory when better-sqlite3 cannot load, and says why', () => {
    const why: string[] = [];
    const q = openWebhookQueue({ path: join(dir, 'x.db'), queue: 'k', maxEvents: 5, loadDriver: () => { throw new Error('nope'); }, onFallback: (r) => why.push(r) });
    assert.equal(q.kind, 'memory');
    assert.deepEqual(why, ['the better-sqlite3 package is not installed']);
  });
});
