import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { chatBody, startFixture } from './helpers/fixture.js';

// Review of issue 12 point 5: `apikey:<id>` is the identity of a gateway API key (and the
// subject revokeKey acts on). A token from another issuer that claims such a subject spoke for
// the key: forwarded as x-bulwark-subject apikey:<id>, and its refusals revoked the victim's key.

const SECRET = 'review-secret-0123456789abcdef0123456789abcdef';
const sign = (sub: string) => new SignJWT({ roles: ['user'] }).setProtectedHeader({ alg: 'HS256' }).setIssuer('idp').setAudience('api').setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));

describe('another issuer cannot speak for an API key', () => {
  it('an external token with subject apikey:<id> is refused, and cannot get that key revoked', { timeout: 60_000 }, async () => {
    const f = await startFixture({
      auth: { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }], apiKeys: { header: 'x-api-key' } },
      routes: [
        { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt', 'apiKey'], roles: ['user'] } },
        { name: 'admin', match: { methods: ['GET'], path: '/v1/models' }, auth: { any: ['jwt', 'apiKey'], roles: ['admin'] } },
      ],
      events: { sinks: [], alerts: [{ name: 'key-abuse', when: { event: 'authz.denied', by: 'user.id' }, then: [{ revokeKey: true }] }] },
    });
    try {
      const keys = new ApiKeyStore(f.gw.store);
      const { key, record } = await keys.create({ name: 'victim', roles: ['user'] });
      const forged = await sign(`apikey:${record.id}`);
      const before = f.mock.requests.length;
      const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${forged}` }, body: chatBody() });
      await r.arrayBuffer();
      const forwardedAs = f.mock.requests.slice(before).map((q) => q.headers['x-bulwark-subject']);
      assert.deepEqual(forwardedAs, [], `an external token was forwarded as ${JSON.stringify(forwardedAs)}`);
      assert.equal(r.status, 401);
      const denied = await fetch(`${f.url}/v1/models`, { headers: { authorization: `Bearer ${forged}` } });
      await denied.arrayBuffer();
      await sleep(300);
      const ok = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: chatBody() });
      await ok.arrayBuffer();
      assert.equal(ok.status, 200, 'the victim key still works');
    } finally {
      await f.close();
    }
  });
});
