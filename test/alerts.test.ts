import assert from 'node:assert/strict';
import http from 'node:http';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { configSchema, type BulwarkConfigInput } from '../src/config/schema.js';
import { createAlertEngine, type AlertEngine, type AlertRule } from '../src/events/alerts/index.js';
import type { SecurityEvent } from '../src/events/event.js';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

const SECRET = 'alerts-test-secret-0123456789abcdefghij';
const sign = (sub: string, secret = SECRET) =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('idp').setAudience('api').setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(secret));
const JWT_AUTH: BulwarkConfigInput['auth'] = { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }] };

/** The rules as the config gives them (parsed by the real schema, durations in ms). */
function rulesOf(alerts: NonNullable<NonNullable<BulwarkConfigInput['events']>['alerts']>): readonly AlertRule[] {
  return configSchema.parse({ version: 1, events: { sinks: [], alerts } }).events.alerts;
}

/**
 * Starts the engine on the fixture's bus and store, unless the gateway already runs one for its
 * config (the rules are given here, not in the gateway's config, so it never runs twice).
 */
function engineFor(f: Fixture, rules: readonly AlertRule[]): AlertEngine {
  return createAlertEngine({ rules, events: f.gw.events, store: f.gw.store });
}

interface Reply {
  status: number;
  code: string | undefined;
}

/** A POST from a chosen local address (127.0.0.x are all this machine). */
function post(f: Fixture, localAddress: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = chatBody();
    const req = http.request(`${f.url}/v1/chat/completions`, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitFor(events: SecurityEvent[], pred: (e: SecurityEvent) => boolean, ms: number): Promise<SecurityEvent | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = events.find(pred);
    if (hit || Date.now() > deadline) return hit;
    await sleep(10);
  }
}

it('a burst of failed authentications fires the alert within 5 s and bans the source; the ban stops the burst', async () => {
  const f = await startFixture({ auth: JWT_AUTH, routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt'] } }] });
  const engine = engineFor(f, rulesOf([{ name: 'auth-burst', when: { event: 'auth.failure', count: 10, within: '10s', by: 'source.ip' }, then: ['notify', { ban: '1m' }] }]));
  try {
    const forged = await sign('mallory', 'a-forged-signing-secret-that-is-long-enough');
    const attacker = '127.0.0.31';
    const started = Date.now();
    const burst = await Promise.all(Array.from({ length: 15 }, () => post(f, attacker, { authorization: `Bearer ${forged}` })));
    assert.ok(burst.every((r) => r.status === 401 || (r.status === 403 && r.code === 'BANNED')), JSON.stringify(burst));

    const fired = await waitFor(f.events, (e) => e.event.action === 'alert.fired', 5_000);
    assert.ok(fired, 'alert.fired');
    assert.ok(Date.now() - started < 5_000, 'within 5 s');
    assert.equal(fired.event.kind, 'alert');
    assert.equal(fired.bulwark.severity, 'high', 'minSeverity: high webhooks deliver it');
    assert.equal(fired.rule?.name, 'auth-burst');
    assert.equal(fired.source?.ip, attacker);
    assert.equal(fired.bulwark['count'], 10);

    const applied = await waitFor(f.events, (e) => e.event.action === 'ban.applied', 5_000);
    assert.equal(applied?.source?.ip, attacker);
    assert.equal(applied?.event.reason, 'alert:auth-burst');

    // The ban stops the burst: refused first thing, no more authentication attempts reach the check.
    const failuresBefore = f.events.filter((e) => e.event.action === 'auth.failure').length;
    assert.ok(failuresBefore >= 10 && failuresBefore <= 15);
    const second = await Promise.all(Array.from({ length: 15 }, () => post(f, attacker, { authorization: `Bearer ${forged}` })));
    assert.ok(second.every((r) => r.status === 403 && r.code === 'BANNED'), JSON.stringify(second));
    assert.equal(f.events.filter((e) => e.event.action === 'auth.failure').length, failuresBefore);
    const good = `Bearer ${await sign('alice')}`;
    assert.equal((await post(f, attacker, { authorization: good })).code, 'BANNED', 'banned even with a valid token');
    assert.equal((await post(f, '127.0.0.32', { authorization: good })).status, 200, 'another client is unaffected');
    assert.equal(f.mock.requests.length, 1);

    await engine.idle();
    assert.equal(f.events.filter((e) => e.event.action === 'alert.fired').length, 1, 'one alert per cooldown');
    const all = JSON.stringify(f.events);
    assert.ok(!all.includes(forged), 'the forged token appears in no event');
    assert.ok(!all.includes(forged.split('.')[2] as string), 'nor its signature');
  } finally {
    await engine.close();
    await f.close();
  }
});

it('throttle lowers the client\'s limits; other clients keep theirs', async () => {
  const f = await startFixture({
    auth: JWT_AUTH,
    routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt'] }, rateLimit: [{ by: 'ip', requests: 10, per: '1m' }] }],
  });
  const engine = engineFor(f, rulesOf([{ name: 'suspicious', when: { event: 'auth.failure', by: 'source.ip' }, then: ['notify', { revokeKey: false, throttle: 0.2 }] }]));
  try {
    const good = `Bearer ${await sign('bob')}`;
    assert.equal((await post(f, '127.0.0.41', { authorization: 'Bearer not.a.token' })).status, 401);
    assert.ok(await waitFor(f.events, (e) => e.event.action === 'alert.fired', 5_000));
    await engine.idle();
    const throttled: number[] = [];
    for (let i = 0; i < 5; i++) throttled.push((await post(f, '127.0.0.41', { authorization: good })).status);
    // 10 x 0.2 = 2 per minute, one of them spent by the failed attempt.
    assert.deepEqual(throttled, [200, 429, 429, 429, 429]);
    for (let i = 0; i < 6; i++) assert.equal((await post(f, '127.0.0.42', { authorization: good })).status, 200);
    const fired = f.events.find((e) => e.event.action === 'alert.fired');
    assert.deepEqual(fired?.bulwark['actions'], [{ type: 'notify' }, { type: 'throttle', target: 'ip', factor: 0.2, durationMs: 900_000 }]);
  } finally {
    await engine.close();
    await f.close();
  }
});

it('revokeKey revokes the API key of the grouped identity; other keys keep working', async () => {
  const f = await startFixture({
    auth: { apiKeys: { header: 'x-api-key' } },
    routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['apiKey'], roles: ['ai-user'] } }],
  });
  const engine = engineFor(f, rulesOf([{ name: 'key-abuse', when: { event: 'authz.denied', count: 3, within: '1m', by: 'user.id' }, then: ['notify', { revokeKey: true }] }]));
  try {
    const keys = new ApiKeyStore(f.gw.store);
    const abuser = await keys.create({ name: 'abuser', roles: ['reader'] });
    const fine = await keys.create({ name: 'fine', roles: ['ai-user'] });
    for (let i = 0; i < 3; i++) assert.equal((await post(f, '127.0.0.51', { 'x-api-key': abuser.key })).status, 403);
    const revoked = await waitFor(f.events, (e) => e.event.action === 'key.revoked', 5_000);
    assert.equal(revoked?.bulwark['keyId'], abuser.record.id);
    assert.equal(revoked?.user?.id, `apikey:${abuser.record.id}`);
    const after = await post(f, '127.0.0.51', { 'x-api-key': abuser.key });
    assert.equal(after.status, 401, 'the revoked key no longer authenticates');
    assert.equal((await post(f, '127.0.0.51', { 'x-api-key': fine.key })).status, 200);
    const all = JSON.stringify(f.events);
    assert.ok(!all.includes(abuser.key) && !all.includes(fine.key), 'no API key appears in any event');
  } finally {
    await engine.close();
    await f.close();
  }
});
