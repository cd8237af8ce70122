import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import type { SecurityEvent } from '../src/events/event.js';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { sharedFor } from '../src/stages/auth/index.js';
import type { SigningKeys } from '../src/stages/auth/signing-keys.js';
import { mintToken } from '../src/stages/auth/token-endpoint.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

// A token the token endpoint traded for an API key is bound to that key: revoking the key (by an
// alert action, the CLI or the store), its expiry, or the end of its rotation grace ends the
// token too, on every instance, within the key-status cache window (at most 1 s). Two gateway
// instances share the real Redis under a random prefix.

const REDIS = 'redis://127.0.0.1:6379';
// Generous: the bound only stops a broken build from hanging; a working one answers in ~1 s.
const POLL_DEADLINE_MS = 20_000;

describe('revocation reaches the tokens a key minted (two instances, one Redis)', () => {
  let a: Fixture;
  let b: Fixture;
  let keys: ApiKeyStore;
  before(async () => {
    const config = {
      state: { store: 'redis' as const, redis: { url: REDIS, prefix: `bulwark-test:${randomUUID()}:` } },
      auth: { apiKeys: { header: 'x-api-key' }, tokenEndpoint: { ttl: '5m' } },
      routes: [
        { name: 'chat', match: { methods: ['POST' as const], path: '/v1/chat/completions' }, kind: 'openai-chat' as const, auth: { any: ['jwt' as const], roles: ['user'] } },
        { name: 'admin', match: { methods: ['GET' as const], path: '/v1/models' }, auth: { any: ['jwt' as const], roles: ['admin'] } },
      ],
      events: { sinks: [], alerts: [{ name: 'key-abuse', when: { event: 'authz.denied' as const, by: 'user.id' as const }, then: [{ revokeKey: true }] }] },
    };
    a = await startFixture(config);
    b = await startFixture(config);
    keys = new ApiKeyStore(a.gw.store);
  });
  after(async () => {
    // Leave nothing behind in the shared Redis (only this test's prefix).
    for (const k of await a.gw.store.keys('', 100_000)) await a.gw.store.delete(k);
    await a.close();
    await b.close();
  });

  const mint = async (f: Fixture, key: string) => {
    const res = await fetch(`${f.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': key }, body: 'grant_type=client_credentials' });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const chat = async (f: Fixture, token: string) => {
    const res = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: chatBody() });
    await res.arrayBuffer();
    return res.status;
  };
  /** Calls until refused (or the deadline): the refusal comes once the instance's cache entry is gone. */
  async function refusedEventually(f: Fixture, token: string): Promise<void> {
    const deadline = Date.now() + POLL_DEADLINE_MS;
    for (;;) {
      const forwarded = f.mock.requests.length;
      const status = await chat(f, token);
      if (status !== 200) {
        assert.equal(status, 401);
        assert.equal(f.mock.requests.length, forwarded, 'the refused request reached nothing');
        return;
      }
      assert.ok(Date.now() < deadline, 'the token still works long after its key ended');
      await sleep(100);
    }
  }
  async function waitForEvent(f: Fixture, match: (e: SecurityEvent) => boolean): Promise<SecurityEvent> {
    const deadline = Date.now() + POLL_DEADLINE_MS;
    for (;;) {
      const e = f.events.find(match);
      if (e) return e;
      assert.ok(Date.now() < deadline, 'event never came');
      await sleep(50);
    }
  }

  it('minted tokens name their key (claim bulwark_key_id)', async () => {
    const { key, record } = await keys.create({ name: 'claim', roles: ['user'] });
    const claims = decodeJwt(await mint(a, key));
    assert.equal(claims.bulwark_key_id, record.id);
    assert.equal(claims.sub, `apikey:${record.id}`);
  });

  it('the revokeKey alert action on instance A ends the key\'s token on instance B', async () => {
    const { key, record } = await keys.create({ name: 'abuser', roles: ['user'] });
    const token = await mint(a, key);
    assert.equal(await chat(b, token), 200, 'the token works on the other instance');
    assert.equal(await chat(a, token), 200);
    // A call the key's roles do not allow: authz.denied, grouped by user.id → revokeKey.
    const denied = await fetch(`${a.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(denied.status, 403);
    await denied.arrayBuffer();
    const revoked = await waitForEvent(a, (e) => e.event.action === 'key.revoked' && e.bulwark['keyId'] === record.id);
    assert.equal(revoked.user?.id, `apikey:${record.id}`);
    // Where the revocation happened it applies at once (the instance hears its own key.revoked).
    const before = a.mock.requests.length;
    assert.equal(await chat(a, token), 401);
    assert.equal(a.mock.requests.length, before);
    await refusedEventually(b, token);
    assert.ok(b.events.some((e) => e.event.action === 'auth.failure' && e.event.reason === 'jwt_key_revoked'));
    assert.ok(!JSON.stringify([...a.events, ...b.events]).includes(token), 'no event carries the token');
  });

  it('a key revoked in the store (CLI) ends its tokens on every instance', async () => {
    const { key, record } = await keys.create({ name: 'cli', roles: ['user'] });
    const token = await mint(b, key);
    assert.equal(await chat(a, token), 200);
    assert.equal(await chat(b, token), 200);
    await new ApiKeyStore(b.gw.store).revoke(record.id);
    await refusedEventually(a, token);
    await refusedEventually(b, token);
  });

  it('a rotated key\'s tokens live through the grace and end with it', async () => {
    const graced = await keys.create({ name: 'graced', roles: ['user'] });
    const gracedToken = await mint(a, graced.key);
    assert.ok(await keys.rotate(graced.record.id, 24 * 3_600_000));
    // Past the cache window the record is read again: still within the grace, still valid.
    await sleep(1_200);
    assert.equal(await chat(b, gracedToken), 200);

    const ending = await keys.create({ name: 'ending', roles: ['user'] });
    const endingToken = await mint(a, ending.key);
    assert.equal(await chat(b, endingToken), 200);
    assert.ok(await keys.rotate(ending.record.id, 1));
    await refusedEventually(b, endingToken);
    assert.ok(b.events.some((e) => e.event.action === 'auth.failure' && e.event.reason === 'jwt_key_expired'));
  });

  it('a key whose record is gone (a store restarted empty) ends its tokens: unknown keys fail closed', async () => {
    const { key, record } = await keys.create({ name: 'gone', roles: ['user'] });
    const token = await mint(a, key);
    assert.equal(await chat(b, token), 200);
    await a.gw.store.delete(`apikey:${record.id}`);
    await refusedEventually(b, token);
    assert.ok(b.events.some((e) => e.event.action === 'auth.failure' && e.event.reason === 'jwt_key_unknown'));
  });

  it('a token of the gateway issuer whose subject is apikey:<id> is bound to that key even without the claim', async () => {
    const { record } = await keys.create({ name: 'old-format', roles: ['user'] });
    const cfg = a.gw.runtime().config;
    const te = cfg.auth.tokenEndpoint as NonNullable<typeof cfg.auth.tokenEndpoint>;
    // As a token minted before tokens named their key (or by `bulwark token --sub apikey:<id>`).
    const { token } = await mintToken(sharedFor(cfg, a.gw.store).signing as SigningKeys, te, { sub: `apikey:${record.id}`, roles: ['user'] });
    assert.equal(decodeJwt(token).bulwark_key_id, undefined);
    assert.equal(await chat(b, token), 200);
    await keys.revoke(record.id);
    await refusedEventually(b, token);
  });
});
