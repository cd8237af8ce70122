import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createRedisStore } from '../src/stores/redis-store.js';
import { Bans } from '../src/stages/ban/bans.js';
import { chatBody, startFixture } from './helpers/fixture.js';
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

// Two gateway processes on the real Redis (127.0.0.1:6379), reached through a relay the test can
// cut: an outage of Redis for the gateways without stopping it for the other tests.
const REDIS_PORT = 6379;
const LIMIT = 6;
const routes = `  - name: chat
    match: { methods: [POST], path: /v1/chat/completions }
    kind: openai-chat
    auth: { public: true }
    rateLimit: [{ by: ip, requests: ${LIMIT}, per: 1m }]
  - name: models
    match: { methods: [GET], path: /v1/models }
    auth: { public: true }
`;

const chat = (url: string) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() }).then(async (r) => (await r.arrayBuffer(), r.status));
const models = (url: string) => fetch(`${url}/v1/models`).then(async (r) => (await r.arrayBuffer(), r.status));

async function eventually(what: string, check: () => Promise<boolean>, ms = 8000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('cluster: two gateway processes on one Redis', () => {
  const prefix = `bulwark-cluster:${randomUUID()}:`;
  const direct = createRedisStore({ url: `redis://127.0.0.1:${REDIS_PORT}`, prefix });
  const bans = new Bans(direct);
  let proxy: TcpProxy;
  let a: GatewayProcess;
  let b: GatewayProcess;

  before(async () => {
    proxy = await startTcpProxy(REDIS_PORT);
    const state = `state: { store: redis, redis: { url: "redis://127.0.0.1:${proxy.port}", prefix: "${prefix}", onError: local } }`;
    const events = 'events: { sinks: [{ type: stdout }] }';
    [a, b] = await Promise.all([startGatewayProcess({ name: 'cluster-a', routes, state, events }), startGatewayProcess({ name: 'cluster-b', routes, state, events })]);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await proxy?.close();
    for (const k of await direct.keys('', 10_000)) await direct.delete(k);
    await direct.close();
  });

  it('share one request budget', async () => {
    const statuses = [];
    for (let i = 0; i < LIMIT; i++) statuses.push(await chat(i % 2 === 0 ? a.url : b.url));
    assert.deepEqual(statuses, Array(LIMIT).fill(200));
    assert.equal(await chat(a.url), 429);
    assert.equal(await chat(b.url), 429);
  });

  it('share one ban list', async () => {
    await bans.add({ kind: 'ip', value: '127.0.0.1' }, 60_000, 'cluster-test');
    // A ban from outside a process applies once its 1 s memory of clear addresses runs out.
    await eventually('both instances refuse the banned address', async () => (await models(a.url)) === 403 && (await models(b.url)) === 403);
    await bans.remove({ kind: 'ip', value: '127.0.0.1' });
    await eventually('the ban is lifted everywhere', async () => (await models(a.url)) === 200 && (await models(b.url)) === 200);
  });

  it('Redis gone: onError local counts per instance and says so; the gateway keeps serving; Redis back: shared state again', async () => {
    await proxy.cut();
    // The shared budget is spent (first test), but with Redis away each instance counts alone.
    const during = [];
    for (let i = 0; i <= LIMIT; i++) during.push(await chat(a.url));
    assert.deepEqual(during, [...Array(LIMIT).fill(200), 429], 'a local budget of the same size');
    assert.equal(await models(b.url), 200, 'routes keep serving');
    assert.match(a.process.stdout(), /store_unavailable_local/, 'the degradation is reported as an event');

    // While the gateways cannot see it, a ban is written to Redis; it applies once they reconnect.
    await bans.add({ kind: 'ip', value: '127.0.0.1' }, 60_000, 'cluster-test');
    assert.equal(await models(b.url), 200, 'during the outage the instances cannot know the ban');
    await proxy.restore();
    await eventually('both instances read Redis again', async () => (await models(a.url)) === 403 && (await models(b.url)) === 403, 10_000);
    await bans.remove({ kind: 'ip', value: '127.0.0.1' });
    await eventually('the ban is lifted everywhere', async () => (await models(a.url)) === 200 && (await models(b.url)) === 200);
    // The shared window still holds the first test's requests: b is refused by the shared budget,
    // not by its own (it sent nothing during the outage).
    assert.equal(await chat(b.url), 429);
  });
});

describe('state.redis.onError when Redis goes away', () => {
  for (const policy of ['deny', 'allow'] as const) {
    it(`${policy}: ${policy === 'deny' ? 'limited routes refuse (fail closed)' : 'limits are skipped'}, the outage is reported, other routes keep serving, and limits return with Redis`, async () => {
      const proxy = await startTcpProxy(REDIS_PORT);
      const f = await startFixture({
        state: { store: 'redis', redis: { url: `redis://127.0.0.1:${proxy.port}`, prefix: `bulwark-onerror:${randomUUID()}:`, onError: policy } },
        routes: [
          { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, rateLimit: [{ by: 'ip', requests: 2, per: '1m' }] },
          { name: 'health', match: { methods: ['GET'], path: '/v1/models' }, auth: { public: true } },
        ],
      });
      try {
        assert.deepEqual([await chat(f.url), await chat(f.url), await chat(f.url)], [200, 200, 429]);
        await proxy.cut();
        const during = [await chat(f.url), await chat(f.url), await chat(f.url)];
        assert.deepEqual(during, policy === 'deny' ? [500, 500, 500] : [200, 200, 200]);
        const reported = f.events.filter((e) => e.event.action === 'stage.error');
        assert.ok(reported.length > 0, 'the outage is an event');
        if (policy === 'allow') assert.ok(reported.some((e) => e.event.reason === 'store_unavailable_allow'), 'skipping a limit is said, never silent');
        const forwarded = f.mock.requests.length;
        assert.equal(forwarded, policy === 'deny' ? 2 : 5, 'nothing forwarded on a refusal');
        await proxy.restore();
        await eventually('limits apply again', async () => (await chat(f.url)) === 429);
      } finally {
        await f.close();
        await proxy.close();
      }
    });
  }
});

it('bulwark start says at once when its Redis store cannot be reached (and still serves /healthz)', async () => {
  const g = await startGatewayProcess({
    name: 'redis-down',
    routes: '  - name: chat\n    match: { methods: [POST], path: /v1/chat/completions }\n    kind: openai-chat\n    auth: { public: true }\n    rateLimit: [{ by: ip, requests: 100, per: 1m }]\n',
    state: 'state: { store: redis, redis: { url: "redis://127.0.0.1:1", onError: deny } }',
  });
  try {
    await g.process.waitFor(/warning: the redis state store is not reachable; until it is, requests that need it are refused \(500\) \(state\.redis\.onError: deny\)/);
    const health = await fetch(`${g.url}/healthz`);
    assert.equal(health.status, 200);
    await health.arrayBuffer();
  } finally {
    await g.close();
  }
});
