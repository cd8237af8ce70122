import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, SignJWT, type JWK } from 'jose';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

const ISS = 'https://auth.test';
const AUD = 'ai-api';
const b64u = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });

async function sign(claims: Record<string, unknown>, opts: { key?: typeof es.privateKey; alg?: string; header?: Record<string, unknown> } = {}) {
  const jwt = new SignJWT({ iss: ISS, aud: AUD, sub: 'alice', roles: ['user'], iat: now(), exp: now() + 300, ...claims });
  return jwt.setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: 'es1', ...opts.header }).sign(opts.key ?? es.privateKey);
}

function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>, signature = '') {
  return `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}.${signature}`;
}

const goodClaims = () => ({ iss: ISS, aud: AUD, sub: 'alice', roles: ['user'], iat: now(), exp: now() + 300 });

describe('authentication and authorization (G-2, G-3)', () => {
  let f: Fixture;
  let keys: ApiKeyStore;
  let recorderHits = 0;
  let recorder: http.Server;
  let recorderUrl = '';
  let userKey = '';
  let adminKey = '';

  before(async () => {
    recorder = http.createServer((_req, res) => {
      recorderHits++;
      res.end('{}');
    });
    await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
    recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
    const esJwk: JWK = { ...(await exportJWK(es.publicKey)), kid: 'es1', alg: 'ES256', use: 'sig' };
    const rsJwk: JWK = { ...(await exportJWK(rsa.publicKey)), kid: 'rs1', alg: 'RS256', use: 'sig' };
    f = await startFixture({
      auth: {
        jwt: [{ issuer: ISS, audience: AUD, jwks: { keys: [esJwk as Record<string, unknown>, rsJwk as Record<string, unknown>] }, algorithms: ['ES256', 'RS256'], maxTokenAge: '1h', clockSkew: '30s', rolesClaim: 'roles' }],
        apiKeys: { header: 'x-api-key' },
      },
      routes: [
        { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt', 'apiKey'], roles: ['user', 'admin'] } },
        { name: 'admin', match: { methods: ['GET'], path: '/v1/models' }, auth: { any: ['jwt', 'apiKey'], roles: ['admin'] } },
        { name: 'scoped', match: { methods: ['POST'], path: '/v1/embeddings' }, kind: 'openai-embeddings', auth: { any: ['jwt'], scopes: ['embed:write'] } },
      ],
    });
    keys = new ApiKeyStore(f.gw.store);
    userKey = (await keys.create({ name: 'u', roles: ['user'] })).key;
    adminKey = (await keys.create({ name: 'a', roles: ['admin'] })).key;
  });
  after(async () => {
    await f.close();
    await new Promise<void>((r) => recorder.close(() => r()));
  });

  const chat = (headers: Record<string, string>) => fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody() });
  const admin = (headers: Record<string, string>) => fetch(`${f.url}/v1/models`, { headers });

  async function refused(res: Response, status: number) {
    const before = f.mock.requests.length;
    assert.equal(res.status, status, await res.clone().text());
    await res.arrayBuffer();
    assert.equal(f.mock.requests.length, before, 'nothing forwarded');
  }

  it('a valid token is accepted; the upstream sees the subject, not the token', async () => {
    const res = await chat({ authorization: `Bearer ${await sign({})}` });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const up = f.mock.requests.at(-1);
    assert.equal(up?.headers.authorization, undefined);
    assert.equal(up?.headers['x-bulwark-subject'], 'alice');
    assert.equal(up?.headers['x-bulwark-roles'], 'user');
  });

  it('no credential: 401 with WWW-Authenticate, never forwarded', async () => {
    const res = await chat({});
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="bulwark"');
    await refused(res, 401);
    assert.ok(f.events.some((e) => e.event.action === 'auth.failure' && e.event.reason === 'missing_credentials'));
  });

  it('alg none / None / empty, and stripped signatures, are refused', async () => {
    for (const alg of ['none', 'None', 'NONE', '']) {
      await refused(await chat({ authorization: `Bearer ${unsigned({ alg, typ: 'JWT' }, goodClaims())}` }), 401);
      await refused(await chat({ authorization: `Bearer ${unsigned({ alg, typ: 'JWT' }, goodClaims())}.` }), 401);
    }
    const good = await sign({});
    await refused(await chat({ authorization: `Bearer ${good.split('.').slice(0, 2).join('.')}.` }), 401);
    await refused(await chat({ authorization: `Bearer ${good.split('.').slice(0, 2).join('.')}` }), 401);
  });

  it('HS256 signed with the public key (PEM, DER, JWK) is refused', async () => {
    const pems = [rsa.publicKey.export({ type: 'spki', format: 'pem' }), rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }), es.publicKey.export({ type: 'spki', format: 'pem' })];
    const secrets: Buffer[] = [...pems.map((p) => Buffer.from(p)), rsa.publicKey.export({ type: 'spki', format: 'der' }), Buffer.from(JSON.stringify(await exportJWK(rsa.publicKey)))];
    for (const secret of secrets) {
      for (const kid of ['rs1', 'es1', undefined]) {
        const head = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT', ...(kid ? { kid } : {}) }));
        const body = b64u(JSON.stringify(goodClaims()));
        const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
        await refused(await chat({ authorization: `Bearer ${head}.${body}.${sig}` }), 401);
      }
    }
  });

  it('altered payloads and borrowed signatures are refused', async () => {
    const a = (await sign({ sub: 'alice' })).split('.');
    const b = (await sign({ sub: 'bob', roles: ['admin'] })).split('.');
    await refused(await chat({ authorization: `Bearer ${a[0]}.${b[1]}.${a[2]}` }), 401);
    const tampered = b64u(JSON.stringify({ ...goodClaims(), roles: ['admin'] }));
    await refused(await admin({ authorization: `Bearer ${a[0]}.${tampered}.${a[2]}` }), 401);
  });

  it('JWE and JSON-serialized tokens are refused', async () => {
    await refused(await chat({ authorization: `Bearer ${b64u('{"alg":"dir","enc":"A128GCM"}')}..${b64u('iv')}.${b64u('ct')}.${b64u('tag')}` }), 401);
    await refused(await chat({ authorization: `Bearer ${b64u('{"alg":"PBES2-HS256+A128KW","enc":"A128GCM","p2c":2147483647,"p2s":"AAAA"}')}.${b64u('k')}.${b64u('iv')}.${b64u('ct')}.${b64u('tag')}` }), 401);
    const [h, p, s] = (await sign({})).split('.');
    await refused(await chat({ authorization: `Bearer ${JSON.stringify({ protected: h, payload: p, signature: s })}` }), 401);
  });

  it('jku, x5u, embedded jwk and x5c are never used, and never fetched', async () => {
    const attackerJwk = await exportJWK(attacker.publicKey);
    const tokens = [
      await sign({}, { key: attacker.privateKey, header: { jku: `${recorderUrl}/jwks.json`, kid: 'evil' } }),
      await sign({}, { key: attacker.privateKey, header: { x5u: `${recorderUrl}/cert.pem` } }),
      await sign({}, { key: attacker.privateKey, header: { jwk: attackerJwk } }),
      await sign({}, { key: es.privateKey, header: { jku: `${recorderUrl}/jwks.json` } }),
      await sign({}, { key: attacker.privateKey, header: { x5c: ['MIIB'] } }),
    ];
    for (const t of tokens) await refused(await chat({ authorization: `Bearer ${t}` }), 401);
    assert.equal(recorderHits, 0);
  });

  it('kid tricks select nothing outside the static key set', async () => {
    for (const kid of ['../../../../dev/null', '/etc/passwd', `${recorderUrl}/k`, "x' OR '1'='1", 'es1\u0000']) {
      await refused(await chat({ authorization: `Bearer ${await sign({}, { key: attacker.privateKey, header: { kid } })}` }), 401);
    }
    assert.equal(recorderHits, 0);
  });

  it('unknown crit and b64:false are refused', async () => {
    // Signed by hand with the real key: jose itself will not produce such tokens.
    const raw = (header: Record<string, unknown>, payload: string) => {
      const input = `${b64u(JSON.stringify({ alg: 'ES256', kid: 'es1', ...header }))}.${payload}`;
      return `${input}.${b64u(cryptoSign('sha256', Buffer.from(input), { key: es.privateKey, dsaEncoding: 'ieee-p1363' }))}`;
    };
    const claims = b64u(JSON.stringify(goodClaims()));
    await refused(await chat({ authorization: `Bearer ${raw({ crit: ['exp'], exp: 1 }, claims)}` }), 401);
    await refused(await chat({ authorization: `Bearer ${raw({ crit: ['x-custom'], 'x-custom': 1 }, claims)}` }), 401);
    await refused(await chat({ authorization: `Bearer ${raw({ crit: ['b64'], b64: false }, claims)}` }), 401);
    // Control: the same hand-signing yields an accepted token without those headers.
    const ok = await chat({ authorization: `Bearer ${raw({}, claims)}` });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
  });

  it('claims: exp required and numeric, expired, nbf, iat in the future, lifetime, iss, aud', async () => {
    const cases: Array<Record<string, unknown>> = [
      { exp: undefined }, { exp: String(now() + 300) }, { exp: now() - 120 }, { nbf: now() + 300 },
      { iat: now() + 300 }, { iat: now(), exp: now() + 3 * 3600 }, { iss: 'https://auth.test/' }, { iss: 'https://evil.test' },
      { aud: 'other' }, { aud: ['other', 'x'] }, { sub: undefined }, { sub: '' },
    ];
    for (const c of cases) await refused(await chat({ authorization: `Bearer ${await sign(c)}` }), 401);
    const ok = await chat({ authorization: `Bearer ${await sign({ aud: ['other', AUD] })}` });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
  });

  it('oversized and many-segment tokens are refused quickly', async () => {
    const t0 = Date.now();
    // 60 KiB is above the 16 KiB head limit: refused by the parser (431) before auth even runs.
    await refused(await chat({ authorization: `Bearer ${'a'.repeat(60 * 1024)}` }), 431);
    await refused(await chat({ authorization: `Bearer ${'a'.repeat(12 * 1024)}` }), 401);
    await refused(await chat({ authorization: `Bearer ${Array.from({ length: 3000 }, () => 'a').join('.')}` }), 401);
    assert.ok(Date.now() - t0 < 3000);
  });

  it('roles come only from the roles claim, exact, of the right type', async () => {
    const ok = await admin({ authorization: `Bearer ${await sign({ roles: ['admin'] })}` });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    const denied: Array<Record<string, unknown>> = [
      { roles: ['user'] }, { roles: 'Admin' }, { roles: 'admin ' }, { roles: ['administrator'] }, { roles: 'adm' },
      { roles: [['admin']] }, { roles: { admin: true } }, { roles: undefined, role: 'admin' }, { roles: [], scope: 'admin' },
      { roles: [], groups: ['admin'], is_admin: true },
    ];
    for (const c of denied) await refused(await admin({ authorization: `Bearer ${await sign(c)}` }), 403);
    assert.ok(f.events.some((e) => e.event.action === 'authz.denied'));
    await refused(await fetch(`${f.url}/v1/models?role=admin&is_admin=true`, { headers: { authorization: `Bearer ${await sign({ roles: ['user'] })}` } }), 403);
  });

  it('two Authorization headers, or a valid credential beside an invalid one, grant nothing', async () => {
    const good = await sign({ roles: ['admin'] });
    const twice = await new Promise<number>((resolve) => {
      const req = http.request(`${f.url}/v1/models`, { headers: [['authorization', `Bearer ${good}`], ['authorization', 'Bearer garbage']] as unknown as http.OutgoingHttpHeaders }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.end();
    });
    assert.ok(twice >= 400 && twice < 500);
    await refused(await admin({ authorization: `Bearer ${good}`, 'x-api-key': 'bwk_bogus' }), 401);
    await refused(await admin({ authorization: `Bearer ${await sign({ roles: ['user'] })}`, 'x-api-key': adminKey }), 401);
  });

  it('API keys: exact and case-sensitive; variants, query strings and Bearer use refused', async () => {
    const ok = await chat({ 'x-api-key': userKey });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    assert.equal(f.mock.requests.at(-1)?.headers['x-api-key'], undefined);
    const swap = userKey.replace(/[a-z]/, (c) => c.toUpperCase());
    for (const v of [swap, userKey.slice(0, -1), `${userKey}x`, ` ${userKey}`.slice(0, -1), userKey.toUpperCase(), userKey.slice(1), `x${userKey}`]) {
      await refused(await chat({ 'x-api-key': v }), 401);
    }
    await refused(await fetch(`${f.url}/v1/chat/completions?api_key=${userKey}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() }), 401);
    await refused(await chat({ authorization: `Bearer ${userKey}` }), 401);
    await refused(await admin({ 'x-api-key': userKey }), 403);
    const a = await admin({ 'x-api-key': adminKey });
    assert.equal(a.status, 200);
    await a.arrayBuffer();
  });

  it('revoked keys are refused at once; rotated keys work until the grace ends', async () => {
    const { key, record } = await keys.create({ name: 'r', roles: ['user'] });
    assert.equal((await chat({ 'x-api-key': key })).status, 200);
    await keys.revoke(record.id);
    await refused(await chat({ 'x-api-key': key }), 401);

    const first = await keys.create({ name: 'rot', roles: ['user'] });
    const rotated = await keys.rotate(first.record.id, 400);
    assert.ok(rotated);
    assert.equal((await chat({ 'x-api-key': first.key })).status, 200, 'old key valid during grace');
    assert.equal((await chat({ 'x-api-key': rotated.key })).status, 200, 'new key valid');
    await new Promise((r) => setTimeout(r, 500));
    await refused(await chat({ 'x-api-key': first.key }), 401);
    assert.equal((await chat({ 'x-api-key': rotated.key })).status, 200);
  });

  it('scopes come from scope or scp and must all be present', async () => {
    const embed = async (claims: Record<string, unknown>) => {
      const r = await fetch(`${f.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await sign(claims)}` }, body: '{"model":"m","input":"x"}' });
      await r.arrayBuffer();
      return r.status;
    };
    assert.equal(await embed({ scope: 'read embed:write' }), 200);
    assert.equal(await embed({ scp: ['embed:write'] }), 200);
    assert.equal(await embed({ scope: 'embed:writer' }), 403);
    assert.equal(await embed({ scope: 'read' }), 403);
    assert.equal(await embed({ roles: ['embed:write'] }), 403);
  });

  it('successful authentications are sampled into auth.success events', () => {
    assert.ok(f.events.some((e) => e.event.action === 'auth.success' && e.bulwark.sampled === 100));
  });

  it('no event carries a token or a key', () => {
    const all = JSON.stringify(f.events);
    assert.ok(!all.includes(userKey) && !all.includes(adminKey));
    assert.doesNotMatch(all, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });
});
