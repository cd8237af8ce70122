import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { generateApiKey } from '../src/stages/auth/api-key-format.js';
import { chatBody, startFixture } from './helpers/fixture.js';

const routes = [{ name: 'chat', match: { methods: ['POST' as const], path: '/v1/chat/completions' }, kind: 'openai-chat' as const, auth: { any: ['apiKey' as const] } }];

// Two instances on one Redis share API keys and revocations (the real Redis on 127.0.0.1:6379).
it('instances sharing Redis share keys and revocations', async () => {
  const state = { store: 'redis' as const, redis: { url: 'redis://127.0.0.1:6379', prefix: `bulwark-test:${randomUUID()}:` } };
  const a = await startFixture({ state, auth: { apiKeys: {} }, routes });
  const b = await startFixture({ state, auth: { apiKeys: {} }, routes });
  try {
    const keys = new ApiKeyStore(a.gw.store);
    const { key, record } = await keys.create({ name: 'shared', roles: [] });
    const call = async (url: string) => {
      const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: chatBody() });
      await r.arrayBuffer();
      return r.status;
    };
    assert.equal(await call(b.url), 200);
    await keys.revoke(record.id);
    assert.equal(await call(b.url), 401);
  } finally {
    await a.close();
    await b.close();
  }
});

// Redis unreachable: a stage that needs the store fails closed (500), fast, and the gateway keeps serving.
it('an unreachable Redis fails closed, quickly, without hanging or crashing', async () => {
  const f = await startFixture({
    state: { store: 'redis', redis: { url: 'redis://127.0.0.1:1', prefix: 'x:' } },
    auth: { apiKeys: {} },
    routes: [...routes, { name: 'models', match: { methods: ['GET'], path: '/v1/models' }, auth: { public: true } }],
  });
  try {
    const t0 = Date.now();
    // A well-formed key gets past the format check, so the store lookup is what fails.
    const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': generateApiKey().key }, body: chatBody() });
    assert.equal(r.status, 500);
    assert.equal(((await r.json()) as { code: string }).code, 'INTERNAL_ERROR');
    assert.ok(f.events.some((e) => e.event.action === 'stage.error' && e.bulwark.stage === 'auth'));
    assert.ok(Date.now() - t0 < 5000);
    const real = await new ApiKeyStore(f.gw.store).create({ name: 'x', roles: [] }).catch((e: unknown) => e);
    assert.ok(real instanceof Error, 'the store reports the outage');
    const models = await fetch(`${f.url}/v1/models`);
    assert.equal(models.status, 200, 'routes that need no store keep serving');
    assert.equal(f.mock.requests.filter((q) => q.url.startsWith('/v1/chat')).length, 0, 'nothing forwarded on the failing route');
  } finally {
    await f.close();
  }
});
