import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

const SECRET = 'rate-limit-test-secret-0123456789abcdef';
type RouteInput = NonNullable<BulwarkConfigInput['routes']>[number];
const route = (rateLimit: NonNullable<RouteInput['rateLimit']>, extra: Partial<RouteInput> = {}): RouteInput => ({ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', rateLimit, ...extra });
const post = async (f: Fixture, headers: Record<string, string> = {}) => {
  const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody() });
  await r.arrayBuffer();
  return r;
};
const token = (sub: string) => new SignJWT({ roles: ['user'] }).setProtectedHeader({ alg: 'HS256' }).setIssuer('idp').setAudience('api').setSubject(sub).setIssuedAt().setJti(randomUUID()).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));

describe('rate limits (G-5)', () => {
  it('a burst of 2 x limit concurrent requests forwards at most limit; refusals are 429 with Retry-After and RateLimit headers', async () => {
    const f = await startFixture({ routes: [route([{ by: 'ip', requests: 5, per: '1m' }], { auth: { public: true } })] });
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => post(f)));
      assert.equal(results.filter((r) => r.status === 200).length, 5);
      assert.equal(f.mock.requests.length, 5);
      const refused = results.find((r) => r.status === 429);
      assert.ok(refused);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.equal(refused.headers.get('ratelimit-policy'), '"r0";q=5;w=60');
      assert.match(refused.headers.get('ratelimit') ?? '', /^"r0";r=0;t=\d+$/);
      const events = f.events.filter((e) => e.event.action === 'ratelimit.exceeded');
      assert.equal(events.length, 1, 'refusals are sampled: one event per key per window');
    } finally {
      await f.close();
    }
  });

  it('no window edge lets more than limit through in any window', async () => {
    const f = await startFixture({ routes: [route([{ by: 'ip', requests: 3, per: '1s' }], { auth: { public: true } })] });
    try {
      // The gateway admits a request somewhere between sending it and its answer; four admissions
      // provably inside one window means the 4th answered less than 1 s after the 1st was sent.
      const forwarded: Array<{ sent: number; answered: number }> = [];
      const end = Date.now() + 2600;
      while (Date.now() < end) {
        const before = f.mock.requests.length;
        const sent = Date.now();
        await post(f);
        if (f.mock.requests.length > before) forwarded.push({ sent, answered: Date.now() });
        await new Promise((r) => setTimeout(r, 40));
      }
      assert.ok(forwarded.length >= 6, `the budget refills (${forwarded.length})`);
      forwarded.forEach((first, i) => {
        const inWindow = forwarded.slice(i).filter((later) => later.answered - first.sent < 1000).length;
        assert.ok(inWindow <= 3, `at most 3 in any 1 s window (${inWindow} from #${i})`);
      });
    } finally {
      await f.close();
    }
  });

  it('spoofed X-Forwarded-For from an untrusted peer does not reset the per-IP budget', async () => {
    const f = await startFixture({ routes: [route([{ by: 'ip', requests: 2, per: '1m' }], { auth: { public: true } })] });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(f, { 'x-forwarded-for': `10.0.0.${i}`, 'x-real-ip': `10.1.0.${i}` })).status);
      assert.deepEqual(statuses, [200, 200, 429, 429, 429]);
    } finally {
      await f.close();
    }
  });

  it('re-minted tokens for the same subject share one budget; another subject has its own', async () => {
    const f = await startFixture({
      auth: { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }] },
      routes: [route([{ by: 'identity', requests: 2, per: '1m' }], { auth: { any: ['jwt'] } })],
    });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(f, { authorization: `Bearer ${await token('alice')}` })).status);
      assert.deepEqual(statuses, [200, 200, 429]);
      assert.equal((await post(f, { authorization: `bEaReR ${await token('alice')}` })).status, 429, 'another spelling of the scheme is the same subject');
      assert.equal((await post(f, { authorization: `Bearer ${await token('bob')}` })).status, 200);
    } finally {
      await f.close();
    }
  });

  it('failed authentications count toward the per-IP limit', async () => {
    const f = await startFixture({
      auth: { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }] },
      routes: [route([{ by: 'ip', requests: 3, per: '1m' }], { auth: { any: ['jwt'] } })],
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await post(f, { authorization: 'Bearer not.a.token' })).status, 401);
      assert.equal((await post(f, { authorization: `Bearer ${await token('alice')}` })).status, 429);
      assert.equal(f.mock.requests.length, 0);
    } finally {
      await f.close();
    }
  });

  it('instances sharing Redis share one budget', async () => {
    const state = { store: 'redis' as const, redis: { url: 'redis://127.0.0.1:6379', prefix: `bulwark-test:${randomUUID()}:` } };
    const cfg = { state, routes: [route([{ by: 'ip', requests: 4, per: '1m' }], { auth: { public: true } })] };
    const a = await startFixture(cfg);
    const b = await startFixture(cfg);
    try {
      const results = await Promise.all([...Array.from({ length: 5 }, () => post(a)), ...Array.from({ length: 5 }, () => post(b))]);
      assert.equal(results.filter((r) => r.status === 200).length, 4);
      assert.equal(a.mock.requests.length + b.mock.requests.length, 4);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('state.redis.onError when Redis is unreachable', () => {
  const dead = (onError: 'local' | 'deny' | 'allow') => ({
    state: { store: 'redis' as const, redis: { url: 'redis://127.0.0.1:1', prefix: 'x:', onError } },
    routes: [route([{ by: 'ip', requests: 2, per: '1m' }], { auth: { public: true } })],
  });
  const statuses = async (f: Fixture, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await post(f)).status);
    return out;
  };

  it('local: limits are counted in the process, and the degradation is reported', async () => {
    const f = await startFixture(dead('local'));
    try {
      assert.deepEqual(await statuses(f, 3), [200, 200, 429]);
      assert.ok(f.events.some((e) => e.event.action === 'stage.error' && e.event.reason === 'store_unavailable_local'));
    } finally {
      await f.close();
    }
  });

  it('deny: the request is refused (fail closed), nothing forwarded', async () => {
    const f = await startFixture(dead('deny'));
    try {
      assert.deepEqual(await statuses(f, 2), [500, 500]);
      assert.equal(f.mock.requests.length, 0);
    } finally {
      await f.close();
    }
  });

  it('allow: requests pass unlimited, and that is reported', async () => {
    const f = await startFixture(dead('allow'));
    try {
      assert.deepEqual(await statuses(f, 3), [200, 200, 200]);
      assert.ok(f.events.some((e) => e.event.action === 'stage.error' && e.event.reason === 'store_unavailable_allow'));
    } finally {
      await f.close();
    }
  });
});
