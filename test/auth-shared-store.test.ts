import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { chatBody, startFixture } from './helpers/fixture.js';

// Two gateway instances on one SQLite file: a key created on one works on the other, and a
// revocation on one is refused by the other at once.
it('keys and revocations are shared by instances on one SQLite store', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'bulwark-keys-')), 'state.db');
  const cfg = {
    state: { store: 'sqlite' as const, sqlite: { path } },
    auth: { apiKeys: { header: 'x-api-key' } },
    routes: [{ name: 'chat', match: { methods: ['POST' as const], path: '/v1/chat/completions' }, kind: 'openai-chat' as const, auth: { any: ['apiKey' as const] } }],
  };
  const a = await startFixture(cfg);
  const b = await startFixture(cfg);
  try {
    const keysA = new ApiKeyStore(a.gw.store);
    const { key, record } = await keysA.create({ name: 'shared', roles: [] });
    const call = (url: string) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: chatBody() });
    const ok = await call(b.url);
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    await keysA.revoke(record.id);
    const refused = await call(b.url);
    assert.equal(refused.status, 401);
    await refused.arrayBuffer();
    assert.equal(b.mock.requests.length, 1);
  } finally {
    await a.close();
    await b.close();
  }
});

it('keys declared in the config (sha256 hash) authenticate on the memory store', async () => {
  const { generateApiKey } = await import('../src/stages/auth/api-key-format.js');
  const { sha256 } = await import('../src/stages/auth/api-key-store.js');
  const { key, id } = generateApiKey();
  const f = await startFixture({
    auth: { apiKeys: { keys: [{ id, hash: sha256(key), roles: ['user'] }] } },
    routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['apiKey'], roles: ['user'] } }],
  });
  try {
    const call = (k: string) => fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': k }, body: chatBody() }).then(async (r) => (await r.arrayBuffer(), r.status));
    assert.equal(await call(key), 200);
    assert.equal(await call(generateApiKey().key), 401);
  } finally {
    await f.close();
  }
});
