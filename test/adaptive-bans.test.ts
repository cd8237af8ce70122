import assert from 'node:assert/strict';
import http from 'node:http';
import { it } from 'node:test';
import { SignJWT } from 'jose';
import { Bans } from '../src/stages/ban/bans.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

const SECRET = 'adaptive-test-secret-0123456789abcdefgh';
const sign = (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('idp').setAudience('api').setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));

/** A POST from a chosen local address (127.0.0.x are all this machine). */
function postFrom(f: Fixture, localAddress: string, auth: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = chatBody();
    const req = http.request(`${f.url}/v1/chat/completions`, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: auth } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

it('repeated auth failures from one client lead to a ban; other clients are unaffected; the ban expires', async () => {
  const f = await startFixture({
    auth: { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }] },
    routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt'] }, adaptive: { onSignals: ['auth.failure'], penalty: 0.5, ban: '1500ms' } }],
  });
  try {
    const good = `Bearer ${await sign('alice')}`;
    for (let i = 0; i < 5; i++) assert.equal(await postFrom(f, '127.0.0.3', 'Bearer forged.token.here'), 401);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await postFrom(f, '127.0.0.3', good), 403, 'banned even with a valid token');
    assert.equal(await postFrom(f, '127.0.0.4', good), 200, 'another client is unaffected');
    const applied = f.events.find((e) => e.event.action === 'ban.applied');
    assert.equal(applied?.source?.ip, '127.0.0.3');
    assert.equal(applied?.event.reason, 'adaptive:auth.failure');
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal(await postFrom(f, '127.0.0.3', good), 200, 'the ban expired');
    assert.equal(f.mock.requests.length, 2);
    const lifted = f.events.filter((e) => e.event.action === 'ban.lifted');
    assert.equal(lifted.length, 1, 'the end of the ban is announced once');
    assert.equal(lifted[0]?.event.reason, 'expired');
    assert.equal(lifted[0]?.source?.ip, '127.0.0.3');
  } finally {
    await f.close();
  }
});

it('bans set through the store apply to identities and addresses on every route, and can be lifted', async () => {
  const f = await startFixture({
    auth: { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }] },
    routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt'] } }],
  });
  try {
    const bans = new Bans(f.gw.store, f.gw.events);
    await bans.add({ kind: 'identity', value: 'mallory' }, 60_000, 'manual');
    assert.equal(await postFrom(f, '127.0.0.5', `Bearer ${await sign('mallory')}`), 403);
    assert.equal(await postFrom(f, '127.0.0.5', `Bearer ${await sign('alice')}`), 200);
    await bans.add({ kind: 'ip', value: '127.0.0.6' }, 60_000, 'manual');
    assert.equal(await postFrom(f, '127.0.0.6', `Bearer ${await sign('alice')}`), 403);
    assert.equal((await bans.list()).length, 2);
    assert.equal(await bans.remove({ kind: 'ip', value: '127.0.0.6' }), true);
    assert.equal(await postFrom(f, '127.0.0.6', `Bearer ${await sign('alice')}`), 200);
    assert.ok(f.events.some((e) => e.event.action === 'ban.lifted'));
  } finally {
    await f.close();
  }
});

it('an offence lowers the offender\'s limits by the penalty for the cool-down; other clients keep theirs', async () => {
  const f = await startFixture({
    auth: { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }] },
    routes: [{
      name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt'] },
      rateLimit: [{ by: 'ip', requests: 6, per: '1m' }], adaptive: { onSignals: ['auth.failure'], penalty: 0.5, ban: '1m' },
    }],
  });
  try {
    const good = `Bearer ${await sign('bob')}`;
    // One failed login: an offence, and one request of the budget used.
    assert.equal(await postFrom(f, '127.0.0.5', 'Bearer forged.token.here'), 401);
    await new Promise((r) => setTimeout(r, 50));
    // Penalised: 6 x 0.5 = 3 requests, one already spent.
    const offender = [];
    for (let i = 0; i < 3; i++) offender.push(await postFrom(f, '127.0.0.5', good));
    assert.deepEqual(offender, [200, 200, 429]);
    const refusal = f.events.find((e) => e.event.action === 'ratelimit.exceeded');
    assert.equal(refusal?.bulwark.penalisedLimit, 3);
    const other = [];
    for (let i = 0; i < 7; i++) other.push(await postFrom(f, '127.0.0.6', good));
    assert.deepEqual(other, [200, 200, 200, 200, 200, 200, 429], 'another client keeps the full limit');
  } finally {
    await f.close();
  }
});
