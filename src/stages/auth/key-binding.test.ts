import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../stores/memory-store.js';
import type { Store } from '../../stores/store.js';
import { ApiKeyStore } from './api-key-store.js';
import { createKeyBinding, KEY_ID_CLAIM, KEY_STATUS_CACHE_MS } from './key-binding.js';

describe('key binding of gateway-issued tokens', () => {
  it('checks the key named by the claim or by an apikey: subject; a token naming no key is bound to nothing', async () => {
    const keys = new ApiKeyStore(createMemoryStore());
    const { record } = await keys.create({ name: 'k', roles: [] });
    const binding = createKeyBinding(keys);
    assert.deepEqual(await binding.check({ sub: `apikey:${record.id}`, [KEY_ID_CLAIM]: record.id }), { ok: true });
    assert.deepEqual(await binding.check({ sub: `apikey:${record.id}` }), { ok: true });
    assert.deepEqual(await binding.check({ sub: 'alice' }), { ok: true });
    assert.deepEqual(await binding.check({ sub: 'alice', [KEY_ID_CLAIM]: 'nosuchkey' }), { ok: false, reason: 'key_unknown' });
    assert.deepEqual(await binding.check({ sub: `apikey:${record.id}`, [KEY_ID_CLAIM]: 'other' }), { ok: false, reason: 'key_claim_invalid' });
    for (const bad of [42, '', 'x'.repeat(200), ['a']]) assert.deepEqual(await binding.check({ sub: 'alice', [KEY_ID_CLAIM]: bad }), { ok: false, reason: 'key_claim_invalid' });
    assert.deepEqual(await binding.check({ sub: 'apikey:' }), { ok: false, reason: 'key_claim_invalid' });
    assert.deepEqual(await createKeyBinding(undefined).check({ sub: `apikey:${record.id}` }), { ok: false, reason: 'key_unknown' }, 'no key store: fail closed');
  });

  it('remembers a record for at most the cache window, forgets on request, and re-reads after a failed read', async () => {
    const store = createMemoryStore();
    let reads = 0;
    let failNext = false;
    const counting: Store = Object.create(store, {
      get: { value: async (k: string) => { reads++; if (failNext) { failNext = false; throw new Error('store away'); } return store.get(k); } },
    }) as Store;
    const keys = new ApiKeyStore(counting);
    const { record } = await keys.create({ name: 'k', roles: [] });
    const binding = createKeyBinding(keys);
    const t0 = Date.now();
    const claims = { sub: `apikey:${record.id}` };
    reads = 0;
    assert.equal((await binding.check(claims, t0)).ok, true);
    assert.equal((await binding.check(claims, t0 + KEY_STATUS_CACHE_MS - 1)).ok, true);
    assert.equal(reads, 1, 'one read within the window');
    await keys.revoke(record.id);
    reads = 0;
    assert.deepEqual(await binding.check(claims, t0 + KEY_STATUS_CACHE_MS), { ok: false, reason: 'key_revoked' }, 'read again once the window ends');
    assert.equal(reads, 1);
    binding.forget(record.id);
    failNext = true;
    await assert.rejects(binding.check(claims, t0 + KEY_STATUS_CACHE_MS), /store away/, 'a store failure is not a verdict');
    assert.deepEqual(await binding.check(claims, t0 + KEY_STATUS_CACHE_MS), { ok: false, reason: 'key_revoked' }, 'the failed read is not remembered');
  });

  it('stays within its bound, counting what it drops', async () => {
    const binding = createKeyBinding(new ApiKeyStore(createMemoryStore()));
    const now = Date.now();
    for (let i = 0; i < 10_050; i++) await binding.check({ sub: 'x', [KEY_ID_CLAIM]: `k${i}` }, now);
    assert.equal(binding.stats.evicted, 50);
  });
});
