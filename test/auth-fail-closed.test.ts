import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { chatBody, startFixture } from './helpers/fixture.js';

// Review of issue 12 point 5: verifying a gateway token now reads its key's record from the
// state store. When that read fails (store outage) the auth stage throws; on a route with
// `onError: allow` the pipeline then treats the failed auth stage as passed, and a token whose
// key was revoked reaches the upstream.

describe('a failing key lookup on an onError: allow route', () => {
  it('a revoked key\'s token is not forwarded when the key record cannot be read', { timeout: 60_000 }, async () => {
    const f = await startFixture({
      auth: { apiKeys: { header: 'x-api-key' }, tokenEndpoint: { ttl: '5m' } },
      routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', onError: 'allow', auth: { any: ['jwt'] } }],
    });
    try {
      const keys = new ApiKeyStore(f.gw.store);
      const { key, record } = await keys.create({ name: 'k', roles: ['user'] });
      const minted = await fetch(`${f.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': key }, body: 'grant_type=client_credentials' });
      assert.equal(minted.status, 200);
      const token = ((await minted.json()) as { access_token: string }).access_token;
      const chat = async () => {
        const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: chatBody() });
        await r.arrayBuffer();
        return r.status;
      };
      assert.equal(await chat(), 200);
      await keys.revoke(record.id);
      await sleep(1100); // past the key-status cache window
      // The store now fails every key-record read (an outage).
      const store = f.gw.store as { get: (k: string) => Promise<string | undefined> };
      const realGet = store.get.bind(store);
      store.get = async (k: string) => {
        if (k.startsWith('apikey:')) throw new Error('store down');
        return realGet(k);
      };
      const before = f.mock.requests.length;
      const status = await chat();
      assert.equal(f.mock.requests.length, before, `a revoked key's token reached the upstream (status ${status})`);
      assert.notEqual(status, 200);
    } finally {
      await f.close();
    }
  });
});
