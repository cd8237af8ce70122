import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startMockLlm } from '../src/demo/mock-llm.js';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { Bans } from '../src/stages/ban/bans.js';
import { clientNetwork } from '../src/server/client-network.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-token-'));
const dbPath = join(dir, 'state.db');
const overrides = {
  state: { store: 'sqlite' as const, sqlite: { path: dbPath } },
  auth: { apiKeys: { header: 'x-api-key' }, tokenEndpoint: { ttl: '5m', rotateKeys: '24h' } },
  routes: [{ name: 'chat', match: { methods: ['POST' as const], path: '/v1/chat/completions' }, kind: 'openai-chat' as const, auth: { any: ['jwt' as const], roles: ['user'] } }],
};

describe('token endpoint (OAuth2 client credentials) and the gateway issuer', () => {
  let a: Fixture;
  let b: Fixture;
  let key = '';
  let keyId = '';
  before(async () => {
    a = await startFixture(overrides);
    b = await startFixture(overrides);
    const created = await new ApiKeyStore(a.gw.store).create({ name: 'svc', roles: ['user'] });
    key = created.key;
    keyId = created.record.id;
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  const token = (url: string, headers: Record<string, string>, body = 'grant_type=client_credentials') =>
    fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  const chat = (url: string, t: string) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` }, body: chatBody() });

  it('an API key is traded for a short-lived JWT carrying its roles; the token opens the route on every instance', async () => {
    const res = await token(a.url, { 'x-api-key': key });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 300);
    const claims = decodeJwt(body.access_token);
    assert.deepEqual([claims.iss, claims.aud, claims.sub, claims.roles], ['bulwark', 'bulwark', `apikey:${keyId}`, ['user']]);
    assert.equal((claims.exp as number) - (claims.iat as number), 300);
    assert.equal(decodeProtectedHeader(body.access_token).alg, 'ES256');
    for (const url of [a.url, b.url]) {
      const r = await chat(url, body.access_token);
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    }
    assert.equal(a.mock.requests.at(-1)?.headers['x-bulwark-subject'], `apikey:${keyId}`);
    assert.equal(a.mock.requests.filter((r) => r.url.startsWith('/oauth')).length, 0, 'the token endpoint is never forwarded');
  });

  it('HTTP Basic with the API key as the password works too', async () => {
    const res = await token(a.url, { authorization: `Basic ${Buffer.from(`${keyId}:${key}`).toString('base64')}` });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });

  it('refuses bad grants, bad keys, keys in the body and two credentials, in RFC 6749 form', async () => {
    const cases: Array<[Record<string, string>, string, number, string]> = [
      [{ 'x-api-key': key }, 'grant_type=password', 400, 'unsupported_grant_type'],
      [{ 'x-api-key': `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}` }, 'grant_type=client_credentials', 401, 'invalid_client'],
      [{}, `grant_type=client_credentials&client_secret=${key}`, 400, 'invalid_request'],
      [{ 'x-api-key': key, authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}` }, 'grant_type=client_credentials', 401, 'invalid_client'],
      [{}, 'grant_type=client_credentials', 401, 'invalid_client'],
    ];
    for (const [headers, body, status, error] of cases) {
      const res = await token(a.url, headers, body);
      assert.equal(res.status, status, body);
      assert.equal(((await res.json()) as { error: string }).error, error);
    }
    assert.ok(!JSON.stringify(a.events).includes(key));
  });

  it('publishes the public signing keys, never a private part', async () => {
    const res = await fetch(`${a.url}/.well-known/jwks.json`);
    const jwks = (await res.json()) as { keys: Array<Record<string, unknown>> };
    assert.ok(jwks.keys.length >= 1);
    for (const k of jwks.keys) {
      assert.equal(k.d, undefined);
      assert.equal(k.alg, 'ES256');
      assert.equal(typeof k.kid, 'string');
    }
  });

  it('a token signed by another key, or for another audience, is refused', async () => {
    const { SignJWT, generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256');
    const kid = ((await (await fetch(`${a.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys[0]?.kid ?? 'x';
    const forged = await new SignJWT({ roles: ['user'] }).setProtectedHeader({ alg: 'ES256', kid }).setIssuer('bulwark').setAudience('bulwark').setSubject('mallory').setIssuedAt().setExpirationTime('5m').sign(privateKey);
    const r = await chat(a.url, forged);
    assert.equal(r.status, 401);
    await r.arrayBuffer();
  });

  it('bulwark token --sub and --key produce tokens the running gateway accepts', async () => {
    const mock = await startMockLlm();
    const file = join(dir, 'bulwark.yaml');
    writeFileSync(file, `version: 1
server: { listen: "127.0.0.1:0" }
state: { store: sqlite, sqlite: { path: "${dbPath}" } }
upstreams: { llm: { url: "${mock.url}" } }
auth:
  apiKeys: { header: x-api-key }
  tokenEndpoint: { ttl: 5m }
routes:
  - { name: chat, match: { methods: [POST], path: /v1/chat/completions }, kind: openai-chat, auth: { any: [jwt], roles: [user] } }
events: { sinks: [] }
`);
    const p = spawnCli(['start', '-c', file, '--no-watch']);
    try {
      const [, url] = await p.waitFor(/listening on (http:\/\/[^\s"]+)/);
      const minted = runCli(['token', '--sub', 'cli-user', '--roles', 'user', '-c', file]);
      assert.equal(minted.status, 0, minted.stderr);
      const r = await chat(url as string, minted.stdout.trim());
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      // --key needs the listen address in the file; point a second config at the running port.
      const port = new URL(url as string).port;
      const file2 = join(dir, 'b2.yaml');
      writeFileSync(file2, (await import('node:fs')).readFileSync(file, 'utf8').replace('127.0.0.1:0', `127.0.0.1:${port}`));
      const traded = runCli(['token', '--key', key, '-c', file2, '--json']);
      assert.equal(traded.status, 0, traded.stderr);
      const t = (JSON.parse(traded.stdout) as { access_token: string }).access_token;
      const r2 = await chat(url as string, t);
      assert.equal(r2.status, 200);
      await r2.arrayBuffer();
    } finally {
      p.child.kill('SIGKILL');
      await p.exited;
      await mock.close();
    }
  });
});

describe('token endpoint: bans and guessing (it answers outside the routes, so it guards itself)', () => {
  const memory = {
    auth: { apiKeys: { header: 'x-api-key' }, tokenEndpoint: { ttl: '5m' } },
    routes: [{ name: 'chat', match: { methods: ['POST' as const], path: '/v1/chat/completions' }, kind: 'openai-chat' as const, auth: { any: ['jwt' as const], roles: ['user'] } }],
  };
  const token = (url: string, key: string) =>
    fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': key }, body: 'grant_type=client_credentials' });

  it(`after ${10} failed attempts an address is refused (429 slow_down, Retry-After) for a minute, even with a valid key`, async () => {
    const f = await startFixture(memory);
    try {
      const { key } = await new ApiKeyStore(f.gw.store).create({ name: 'svc', roles: ['user'] });
      const wrong = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;
      for (let i = 0; i < 10; i++) {
        const r = await token(f.url, wrong);
        assert.equal(r.status, 401, `attempt ${i + 1}`);
        await r.arrayBuffer();
      }
      for (const k of [wrong, key]) {
        const r = await token(f.url, k);
        assert.equal(r.status, 429);
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
        const body = (await r.json()) as { error: string; access_token?: string };
        assert.equal(body.error, 'slow_down');
        assert.equal(body.access_token, undefined);
      }
      const limited = f.events.filter((e) => e.event.action === 'ratelimit.exceeded');
      assert.equal(limited.length, 1, 'said once, not per refused attempt');
      assert.equal(limited[0]?.event.reason, 'token_endpoint_failures');
      assert.ok(!JSON.stringify(f.events).includes(key.slice(20)), 'no key in events');
    } finally {
      await f.close();
    }
  });

  it('malformed requests are not guesses: they never close the endpoint for the address', async () => {
    const f = await startFixture(memory);
    try {
      const { key } = await new ApiKeyStore(f.gw.store).create({ name: 'svc', roles: ['user'] });
      for (let i = 0; i < 15; i++) {
        const r = await fetch(`${f.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': key }, body: 'grant_type=password' });
        assert.equal(r.status, 400);
        await r.arrayBuffer();
      }
      const ok = await token(f.url, key);
      assert.equal(ok.status, 200);
      await ok.arrayBuffer();
    } finally {
      await f.close();
    }
  });

  it('IPv6 clients are counted per /64 (the shared clientNetwork), IPv4 per address', () => {
    const clientNet = (ip: string) => clientNetwork(ip, 64);
    assert.equal(clientNet('2001:db8:1:2:3:4:5:6'), clientNet('2001:db8:1:2::99'));
    assert.notEqual(clientNet('2001:db8:1:2::1'), clientNet('2001:db8:1:3::1'));
    assert.equal(clientNet('::ffff:10.0.0.1'), '10.0.0.1');
    assert.notEqual(clientNet('10.0.0.1'), clientNet('10.0.0.2'));
  });

  it('a banned address gets no token (403 access_denied with Retry-After), however valid its key', async () => {
    const f = await startFixture(memory);
    try {
      const { key } = await new ApiKeyStore(f.gw.store).create({ name: 'svc', roles: ['user'] });
      const ok = await token(f.url, key);
      assert.equal(ok.status, 200);
      await ok.arrayBuffer();
      await new Bans(f.gw.store).add({ kind: 'ip', value: '127.0.0.1' }, 60_000, 'test');
      const r = await token(f.url, key);
      assert.equal(r.status, 403);
      assert.ok(Number(r.headers.get('retry-after')) >= 50);
      const body = (await r.json()) as { error: string; access_token?: string };
      assert.equal(body.error, 'access_denied');
      assert.equal(body.access_token, undefined);
    } finally {
      await f.close();
    }
  });
});
