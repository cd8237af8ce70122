import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { ConfigError } from '../src/config/config-error.js';
import { parseConfigText } from '../src/config/load.js';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

// The identity the gateway asserts upstream (x-bulwark-subject, x-bulwark-roles) is made of values
// the credential carries. A value must never turn into more (or other) roles or headers than the
// credential holds, and a value a header cannot carry is the credential's fault (401), never a
// 502 that blames the upstream.

const SECRET = 'identity-headers-secret-0123456789abcdef';
const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ roles: ['user'], ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('idp')
    .setAudience('api')
    .setSubject(typeof claims.sub === 'string' ? claims.sub : 'alice')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));

describe('identity headers cannot be forged through a value (x-bulwark-subject, x-bulwark-roles)', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({
      auth: { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }], apiKeys: { header: 'x-api-key' } },
      routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt', 'apiKey'], roles: ['user'] } }],
    });
  });
  after(() => f.close());

  const chat = (headers: Record<string, string>) => fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody() });

  // bad_subject: 401 AUTH_REQUIRED (the credential cannot name anyone upstream); bad_roles: 403
  // FORBIDDEN (a genuine credential whose roles grant nothing usable, like a lookalike role).
  async function refusedWith(headers: Record<string, string>, reason: 'bad_roles' | 'bad_subject', label: string) {
    const forwarded = f.mock.requests.length;
    const seen = f.events.length;
    const res = await chat(headers);
    const body = (await res.json()) as { code?: string };
    const [status, code] = reason === 'bad_roles' ? [403, 'FORBIDDEN'] : [401, 'AUTH_REQUIRED'];
    assert.equal(res.status, status, `${label}: ${JSON.stringify(body)}`);
    assert.equal(body.code, code, label);
    assert.equal(f.mock.requests.length, forwarded, `${label}: nothing reached the upstream`);
    const failure = f.events.slice(seen).find((e) => e.event.action === 'auth.failure');
    assert.equal(failure?.event.reason, reason, label);
  }

  it('a plain token still goes up as subject and roles', async () => {
    const res = await chat({ authorization: `Bearer ${await sign({ roles: ['user', 'reader'] })}` });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(f.mock.requests.at(-1)?.headers['x-bulwark-subject'], 'alice');
    assert.equal(f.mock.requests.at(-1)?.headers['x-bulwark-roles'], 'user,reader');
  });

  it('a role holding a separator, whitespace at an edge, a control or non-ASCII character is refused (403, auth.failure bad_roles)', async () => {
    const roles = ['x,admin', ' admin', 'admin ', 'a;admin', 'x\nadmin', 'x\r\nx-bulwark-subject: root', 'admin\u0000', 'a\tb', 'r\u00f4le', '\u7ba1\u7406', '', '"admin"'];
    for (const r of roles) await refusedWith({ authorization: `Bearer ${await sign({ roles: ['user', r] })}` }, 'bad_roles', JSON.stringify(r));
    // A single string role is a role too.
    await refusedWith({ authorization: `Bearer ${await sign({ roles: 'user,admin' })}` }, 'bad_roles', 'string roles claim');
  });

  it('a subject with CR/LF, a control or a non-ASCII character, or whitespace at an edge, is refused (401 bad_subject), not a 502', async () => {
    const subs = ['alice\r\nx-bulwark-roles: admin', 'alice\n', 'al\u0000ice', 'al\u007fice', '\u7528\u6237', 'Jos\u00e9', 'emoji\u{1f600}', ' alice', 'alice ', 'a\tb'];
    for (const sub of subs) await refusedWith({ authorization: `Bearer ${await sign({ sub })}` }, 'bad_subject', JSON.stringify(sub));
  });

  it('an API key record whose roles were stored with a separator is refused (403 bad_roles), not split upstream', async () => {
    // As an older version (or a hand edit) could have left it: the hash is right, the roles are not.
    const keys = new ApiKeyStore(f.gw.store);
    const made = await keys.create({ name: 'ok', roles: ['user'] });
    const record = JSON.parse((await f.gw.store.get(`apikey:${made.record.id}`)) as string) as Record<string, unknown>;
    await f.gw.store.set(`apikey:${made.record.id}`, JSON.stringify({ ...record, roles: ['user', 'x,admin'] }));
    await refusedWith({ 'x-api-key': made.key }, 'bad_roles', 'stored roles');
  });

  it('keys cannot be created with such roles', async () => {
    const keys = new ApiKeyStore(f.gw.store);
    for (const r of ['a,b', 'a\nb', ' a', '']) await assert.rejects(keys.create({ name: 'bad', roles: [r] }), /role/, JSON.stringify(r));
  });
});

describe('configured role names are checked the same way', () => {
  const base = (roles: string) => `version: 1
upstreams: { llm: { url: "http://127.0.0.1:9" } }
auth:
  apiKeys:
    header: x-api-key
routes:
  - name: chat
    match: { methods: [POST], path: /v1/chat/completions }
    kind: openai-chat
    auth: { any: [apiKey], roles: [${roles}] }
`;

  it('a route role with a comma or a control character is a config error at its key', () => {
    assert.doesNotThrow(() => parseConfigText(base('user, admin'), 'ok.yaml'));
    for (const bad of ['"user,admin"', '"a\\tb"', '" admin"']) {
      let err: unknown;
      try {
        parseConfigText(base(bad), 'roles.yaml');
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ConfigError, bad);
      assert.match(err.message, /^roles\.yaml:10:\d+ routes\[0\]\.auth\.roles\[0\]: .*role/m, bad);
    }
  });

  it('roles of declared keys and of mTLS identities are checked too', () => {
    const text = `version: 1
upstreams: { llm: { url: "http://127.0.0.1:9" } }
auth:
  apiKeys:
    keys:
      - { id: k1, hash: "sha256:${'a'.repeat(64)}", roles: ["a,b"] }
  mtls:
    roles: { "spiffe://corp/x": ["x\\ny"] }
`;
    let err: unknown;
    try {
      parseConfigText(text, 'keys.yaml');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /keys\.yaml:6:\d+ auth\.apiKeys\.keys\[0\]\.roles\[0\]: .*role/);
    assert.match(err.message, /keys\.yaml:8:\d+ auth\.mtls\.roles\.spiffe:\/\/corp\/x\[0\]: .*role/);
  });
});
