import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { clientNetwork } from '../src/server/client-network.js';
import { Bans } from '../src/stages/ban/bans.js';
import { throttleFactor } from '../src/stages/rate-limit/penalty.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

// Every request comes from 127.0.0.1, a trusted proxy, which names the client in X-Forwarded-For.
type RouteInput = NonNullable<BulwarkConfigInput['routes']>[number];
const SERVER = { trustedProxies: ['127.0.0.1/32'] };
const chat = (extra: Partial<RouteInput>): RouteInput => ({ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, ...extra });

/** 30 addresses of one /64, spread over the interface-id bits a client controls. */
const ONE_NET = Array.from({ length: 30 }, (_, i) => `2001:db8:aa:bb:${(i * 2053 + 1).toString(16)}:${(i * 7).toString(16)}:0:${(i + 1).toString(16)}`);
const OTHER_NET = '2001:db8:aa:bc::1';

async function post(f: Fixture, client: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<number> {
  const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': client, ...headers }, body: chatBody(body) });
  await r.arrayBuffer();
  return r.status;
}

describe('limits per network: IPv6 clients by server.ipv6Prefix (/64 by default), behind trustedProxies', () => {
  it('30 addresses of one /64 share one by-ip request limit; another /64 has its own; events name each real address', async () => {
    const f = await startFixture({ server: SERVER, routes: [chat({ rateLimit: [{ by: 'ip', requests: 5, per: '1m' }] })] });
    try {
      const statuses: number[] = [];
      for (const ip of ONE_NET) statuses.push(await post(f, ip));
      assert.equal(statuses.filter((s) => s === 200).length, 5, `one budget for the network: ${statuses.join(',')}`);
      assert.equal(f.mock.requests.length, 5);
      assert.equal(await post(f, OTHER_NET), 200, 'a different /64 is separate');
      const limited = f.events.find((e) => e.event.action === 'ratelimit.exceeded');
      assert.equal(limited?.source?.ip, ONE_NET[5], 'the event carries the full source address, not the network');
    } finally {
      await f.close();
    }
  });

  it('an adaptive ban earned by a few addresses of a /64 refuses all of them, and not the next /64', async () => {
    const f = await startFixture({
      server: SERVER,
      auth: { apiKeys: {} },
      routes: [chat({ auth: { any: ['apiKey'] }, adaptive: { onSignals: ['auth.failure'], penalty: 0.5, ban: '1m' } })],
    });
    try {
      // Five offences, each from a different address of the network: one offender.
      for (const ip of ONE_NET.slice(0, 5)) assert.equal(await post(f, ip, {}, { 'x-api-key': 'bwk_wrong' }), 401);
      const applied = await waitFor(f, 'ban.applied');
      assert.equal(applied.source?.ip, ONE_NET[4], 'ban.applied names the address that earned it');
      const after: number[] = [];
      for (const ip of ONE_NET) after.push(await post(f, ip, {}, { 'x-api-key': 'bwk_wrong' }));
      assert.deepEqual(new Set(after), new Set([403]), `every address of the /64 is banned: ${after.join(',')}`);
      assert.equal(await post(f, OTHER_NET, {}, { 'x-api-key': 'bwk_wrong' }), 401, 'a different /64 is not banned');
      assert.equal(f.mock.requests.length, 0);
    } finally {
      await f.close();
    }
  });

  it('a ban of one address (admin, CLI, alert) covers its /64', async () => {
    const f = await startFixture({ server: SERVER, routes: [chat({})] });
    try {
      await new Bans(f.gw.store, f.gw.events, 64).add({ kind: 'ip', value: ONE_NET[0] as string }, 60_000, 'manual');
      for (const ip of ONE_NET.slice(1, 8)) assert.equal(await post(f, ip), 403, ip);
      assert.equal(await post(f, OTHER_NET), 200);
    } finally {
      await f.close();
    }
  });

  it('30 addresses of one /64 share one concurrency slot pool', async () => {
    const f = await startFixture({ server: SERVER, routes: [chat({ rateLimit: [{ by: 'ip', concurrent: 2 }] })] }, { sseEvents: 100, sseDelayMs: 30 });
    try {
      const statuses = await Promise.all(ONE_NET.slice(0, 10).map((ip) => post(f, ip, { stream: true })));
      assert.equal(statuses.filter((s) => s === 200).length, 2, `two slots for the network: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 429).length, 8);
    } finally {
      await f.close();
    }
  });

  it('30 addresses of one /64 share one by-ip token budget', async () => {
    const f = await startFixture({ server: SERVER, routes: [chat({ rateLimit: [{ by: 'ip', tokens: 200, per: '1m' }] })] });
    try {
      const statuses: number[] = [];
      for (const ip of ONE_NET) statuses.push(await post(f, ip, { max_tokens: 40 }));
      assert.ok(statuses.includes(429), `the network runs out of its one budget: ${statuses.join(',')}`);
      assert.ok(f.mock.requests.length < ONE_NET.length);
      assert.equal(await post(f, OTHER_NET, { max_tokens: 40 }), 200, 'a different /64 has its own budget');
    } finally {
      await f.close();
    }
  });

  it('an alert throttle on one address of a /64 lowers the limits of the whole /64', async () => {
    const f = await startFixture({
      server: SERVER,
      auth: { apiKeys: {} },
      events: { sinks: [], alerts: [{ name: 'fail-throttle', when: { event: 'auth.failure', by: 'source.ip' }, then: [{ throttle: 0.5, for: '1m' }] }] },
      routes: [
        chat({ rateLimit: [{ by: 'ip', requests: 4, per: '1m' }] }),
        { name: 'secure', match: { methods: ['POST'], path: '/v1/secure' }, kind: 'json', auth: { any: ['apiKey'] } },
      ],
    });
    try {
      const r = await fetch(`${f.url}/v1/secure`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ONE_NET[0] as string, 'x-api-key': 'bwk_wrong' }, body: '{}' });
      await r.arrayBuffer();
      assert.equal(r.status, 401);
      await waitFor(f, 'alert.fired');
      // The action follows the alert; wait until this process applies it (an upper bound, not a timing assert).
      const net = clientNetwork(ONE_NET[3] as string, 64);
      for (let i = 0; i < 200 && throttleFactor(f.gw.store, net, undefined) === 1; i++) await new Promise((r) => setTimeout(r, 25));
      const statuses: number[] = [];
      for (const ip of ONE_NET.slice(1, 6)) statuses.push(await post(f, ip));
      assert.deepEqual(statuses, [200, 200, 429, 429, 429], 'the /64 gets half of its one budget');
      assert.equal(await post(f, OTHER_NET), 200);
    } finally {
      await f.close();
    }
  });

  it('the token endpoint counts failed attempts per network too (server.ipv6Prefix: 48)', async () => {
    const f = await startFixture({ server: { ...SERVER, ipv6Prefix: 48 }, auth: { apiKeys: {}, tokenEndpoint: { path: '/oauth/token', ttl: '5m' } } });
    try {
      const attempt = async (ip: string) => {
        const r = await fetch(`${f.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, 'x-api-key': 'bwk_wrong' }, body: 'grant_type=client_credentials' });
        await r.arrayBuffer();
        return r.status;
      };
      // Ten /64s of one /48: one guesser.
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push(await attempt(`2001:db8:77:${i.toString(16)}::1`));
      assert.deepEqual(statuses.slice(-2), [429, 429], statuses.join(','));
      assert.equal(await attempt('2001:db8:78::1'), 401, 'another /48 may still try');
    } finally {
      await f.close();
    }
  });

  it('an IPv4-mapped IPv6 address is its IPv4 address (dotted or hex form)', async () => {
    const f = await startFixture({ server: SERVER, routes: [chat({ rateLimit: [{ by: 'ip', requests: 3, per: '1m' }] })] });
    try {
      assert.equal(await post(f, '203.0.113.9'), 200);
      assert.equal(await post(f, '::ffff:203.0.113.9'), 200);
      assert.equal(await post(f, '::ffff:cb00:7109'), 200);
      assert.equal(await post(f, '203.0.113.9'), 429, 'the three spellings share one limit');
      assert.equal(await post(f, '203.0.113.10'), 200, 'IPv4 stays per address');
    } finally {
      await f.close();
    }
  });

  it('server.ipv6Prefix: 128 counts every IPv6 address on its own', async () => {
    const f = await startFixture({ server: { ...SERVER, ipv6Prefix: 128 }, routes: [chat({ rateLimit: [{ by: 'ip', requests: 1, per: '1m' }] })] });
    try {
      for (const ip of ONE_NET.slice(0, 5)) assert.equal(await post(f, ip), 200, ip);
    } finally {
      await f.close();
    }
  });
});

async function waitFor(f: Fixture, action: string) {
  // Bans follow the offence events asynchronously (store writes); an upper bound, not a timing assert.
  for (let i = 0; i < 200; i++) {
    const e = f.events.find((x) => x.event.action === action);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`no ${action} event`);
}
