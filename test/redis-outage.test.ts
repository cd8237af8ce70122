import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { createRedisStore } from '../src/stores/redis-store.js';
import { Bans } from '../src/stages/ban/bans.js';
import { knownBan } from '../src/stages/ban/ban-cache.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';
import { startOwnRedis } from './helpers/own-redis.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

// Redis outages as an operator meets them: a Redis that is gone (connection refused) and one that
// hangs (SIGSTOP, a partition). The hung one is a private redis-server, never the shared one.
const SHARED_REDIS_PORT = 6379;

const chat = async (f: Fixture, headers: Record<string, string> = {}) => {
  const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody() });
  const body = await r.text();
  return { status: r.status, body };
};
const models = async (f: Fixture, headers: Record<string, string> = {}) => {
  const r = await fetch(`${f.url}/v1/models`, { headers });
  const body = await r.text();
  return { status: r.status, body };
};

async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Routes = NonNullable<BulwarkConfigInput['routes']>;
const limitedRoutes: Routes = [
  { name: 'chat', match: { methods: ['POST' as const], path: '/v1/chat/completions' }, kind: 'openai-chat' as const, auth: { public: true }, rateLimit: [{ by: 'ip' as const, requests: 100, per: '1m' }] },
  { name: 'models', match: { methods: ['GET' as const], path: '/v1/models' }, auth: { public: true } },
];

// Every kind of store call a request makes: the ban lookup, a request limit, a token budget and a
// concurrency lease (each a round trip of its own).
const hungRoutes: Routes = [
  { ...(limitedRoutes[0] as Routes[number]), rateLimit: [{ by: 'ip' as const, requests: 100, per: '1m' }, { by: 'ip' as const, tokens: 100_000, per: '1m' }, { by: 'ip' as const, concurrent: 10 }] },
  limitedRoutes[1] as Routes[number],
];

describe('a hanging Redis (SIGSTOP): every store call has a deadline, then the onError path', () => {
  for (const onError of ['local', 'deny'] as const) {
    it(`onError ${onError}: the request is answered via ${onError === 'local' ? 'the local fallback' : 'a refusal'}, not after seconds per stage`, async () => {
      const redis = await startOwnRedis();
      // No commandTimeout in the config: the default (100 ms) is what is under test.
      const f = await startFixture({ state: { store: 'redis', redis: { url: redis.url, prefix: `bulwark-hang:${randomUUID()}:`, onError } }, routes: hungRoutes });
      try {
        assert.equal((await chat(f)).status, 200, 'Redis answers before the hang');
        redis.pause();
        // Past the ban stage's 1 s memory of clear addresses, so the ban lookup is part of it too.
        await new Promise((r) => setTimeout(r, 1100));
        const t0 = Date.now();
        const during = await chat(f);
        const tookMs = Date.now() - t0;
        if (onError === 'local') {
          assert.equal(during.status, 200, 'counted in this process while Redis hangs');
          assert.ok(f.events.some((e) => e.event.action === 'stage.error' && e.event.reason === 'store_unavailable_local' && e.bulwark.stage === 'rate-limit-ip'), 'the degradation is reported');
        } else {
          assert.equal(during.status, 500);
          assert.equal((JSON.parse(during.body) as { code: string }).code, 'INTERNAL_ERROR');
          assert.ok(f.events.some((e) => e.event.action === 'stage.error' && e.event.reason === 'store_unavailable'), 'the stage failure names the store');
        }
        // Generous: the store deadline is 100 ms per call; before, a request waited ~1 s per call.
        assert.ok(tookMs < 2000, `answered after ${tookMs} ms`);
        assert.equal(f.mock.requests.length, onError === 'local' ? 2 : 1, 'nothing forwarded on a refusal');
        redis.resume();
        await eventually('the store answers again', () => f.gw.store.set('probe', '1').then(() => true, () => false));
        assert.equal((await chat(f)).status, 200);
      } finally {
        await f.close();
        await redis.close();
      }
    });
  }

  it('state.redis.commandTimeout is the deadline of one store call', async () => {
    const redis = await startOwnRedis();
    const store = createRedisStore({ url: redis.url, prefix: `bulwark-hang:${randomUUID()}:`, commandTimeoutMs: 50 });
    try {
      await store.set('k', 'v');
      redis.pause();
      const err = await store.get('k').then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'StoreUnavailableError');
      assert.equal((err as Error & { code?: string }).code, 'STORE_UNAVAILABLE');
    } finally {
      await store.close();
      await redis.close();
    }
  });
});

describe('Redis down with onError local: known bans stay enforced', () => {
  const setup = async (extra: Partial<BulwarkConfigInput> = {}) => {
    const prefix = `bulwark-bans:${randomUUID()}:`;
    const proxy = await startTcpProxy(SHARED_REDIS_PORT);
    const direct = createRedisStore({ url: `redis://127.0.0.1:${SHARED_REDIS_PORT}`, prefix });
    const f = await startFixture({
      server: { trustedProxies: ['127.0.0.1/32'] },
      state: { store: 'redis', redis: { url: `redis://127.0.0.1:${proxy.port}`, prefix, onError: 'local' } },
      routes: limitedRoutes,
      ...extra,
    });
    return {
      proxy,
      f,
      bans: new Bans(direct),
      async close() {
        await f.close();
        await proxy.close();
        for (const k of await direct.keys('', 10_000)) await direct.delete(k);
        await direct.close();
      },
    };
  };

  it('a ban this instance has seen is enforced while Redis is unreachable; other clients are served', async () => {
    const s = await setup();
    try {
      const client = { 'x-forwarded-for': '198.51.100.7' };
      await s.bans.add({ kind: 'ip', value: '198.51.100.7' }, 60_000, 'outage-test');
      await eventually('the instance refuses the banned address', async () => (await models(s.f, client)).status === 403);
      await s.proxy.cut();
      const forwarded = s.f.mock.requests.length;
      for (let i = 0; i < 3; i++) {
        const r = await models(s.f, client);
        assert.equal(r.status, 403, 'a failed lookup uses the cached ban, never "not banned"');
        assert.equal((JSON.parse(r.body) as { code: string }).code, 'BANNED');
      }
      assert.equal((await chat(s.f, client)).status, 403);
      assert.equal(s.f.mock.requests.length, forwarded, 'nothing forwarded for the banned client');
      assert.equal((await models(s.f, { 'x-forwarded-for': '198.51.100.8' })).status, 200, 'other clients are served');
      assert.ok(s.f.events.some((e) => e.event.action === 'stage.error' && e.event.reason === 'store_unavailable_local' && e.bulwark.stage === 'ban'), 'the degradation is reported');
    } finally {
      await s.close();
    }
  });

  it('a ban made by another instance is known from the refresh, before any request of that client', async () => {
    const s = await setup();
    try {
      const target = { kind: 'ip' as const, value: '198.51.100.9' };
      await s.bans.add(target, 60_000, 'outage-test');
      await eventually('the instance learned the ban from the store', () => knownBan(s.f.gw.store, target) !== undefined);
      await s.proxy.cut();
      const r = await models(s.f, { 'x-forwarded-for': target.value });
      assert.equal(r.status, 403);
      assert.equal(s.f.mock.requests.length, 0);
      await s.proxy.restore();
      // Lifted in the store: the cache follows once a lookup or the refresh says so.
      await s.bans.remove(target);
      await eventually('the lifted ban is forgotten', async () => knownBan(s.f.gw.store, target) === undefined && (await models(s.f, { 'x-forwarded-for': target.value })).status === 200);
    } finally {
      await s.close();
    }
  });

  it('an identity ban is enforced too, on an authenticated route, while Redis is unreachable', async () => {
    const secret = 'outage-test-secret-0123456789abcdefghij';
    const s = await setup({
      auth: { jwt: [{ issuer: 'idp', audience: 'api', secret, algorithms: ['HS256'] }] },
      routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt'] } }],
    });
    try {
      const token = (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('idp').setAudience('api').setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(secret));
      const as = async (sub: string) => ({ authorization: `Bearer ${await token(sub)}` });
      await s.bans.add({ kind: 'identity', value: 'mallory' }, 60_000, 'outage-test');
      await eventually('the instance refuses the banned subject', async () => (await chat(s.f, await as('mallory'))).status === 403);
      await s.proxy.cut();
      assert.equal((await chat(s.f, await as('mallory'))).status, 403, 'the banned subject stays refused');
      assert.equal((await chat(s.f, await as('alice'))).status, 200, 'another subject is served');
      assert.equal(s.f.mock.requests.length, 1, 'only the unbanned subject reached the upstream');
    } finally {
      await s.close();
    }
  });
});
