import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../stores/memory-store.js';
import { API_KEY_PATTERN, generateApiKey, parseApiKey } from './api-key-format.js';
import { ApiKeyStore } from './api-key-store.js';

describe('API keys', () => {
  it('have a recognizable format whose checksum catches any single-character change', () => {
    const { key } = generateApiKey();
    assert.match(key, API_KEY_PATTERN);
    assert.ok(parseApiKey(key));
    let caught = 0;
    for (let i = 4; i < key.length; i++) {
      if (key[i] === '_') continue;
      const c = key[i] === 'a' ? 'b' : 'a';
      if (!parseApiKey(key.slice(0, i) + c + key.slice(i + 1))) caught++;
    }
    assert.equal(caught, key.length - 5);
  });

  it('are stored hashed, expire, and report why they fail', async () => {
    const store = createMemoryStore();
    const keys = new ApiKeyStore(store);
    const { key, record } = await keys.create({ name: 'e', roles: ['r'], expiresAt: new Date(Date.now() + 1000) });
    const stored = await store.get(`apikey:${record.id}`);
    assert.ok(stored && !stored.includes(key) && !stored.includes(key.slice(18, 50)), 'the secret is never stored');
    assert.match(record.hash, /^hmac-sha256:[0-9a-f]{64}$/);
    assert.equal((await keys.check(key)).ok, true);
    const later = await keys.check(key, Date.now() + 2000);
    assert.equal(!later.ok && later.reason, 'expired');
    const bad = await keys.check(generateApiKey().key);
    assert.equal(!bad.ok && bad.reason, 'unknown');
    const malformed = await keys.check('sk-not-a-bulwark-key');
    assert.equal(!malformed.ok && malformed.reason, 'malformed');
    await store.close();
  });
});
