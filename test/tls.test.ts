import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { createDevCerts, type DevCertFiles } from '../src/tls/dev-certs.js';
import { startFixture, type Fixture } from './helpers/fixture.js';

const CLIENT_URI = 'spiffe://bulwark.local/dev-client';
const root = mkdtempSync(join(tmpdir(), 'bulwark-tls-'));
const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function agent(files: DevCertFiles | undefined, ca: string) {
  return new Agent({ connect: { ca: readFileSync(ca), ...(files ? { cert: readFileSync(files.client), key: readFileSync(files.clientKey) } : {}), servername: 'localhost' } });
}

async function get(url: string, path: string, dispatcher: Agent, headers: Record<string, string> = {}, method: 'GET' | 'POST' = 'GET', body?: string) {
  const r = await request(`${url}${path}`, { method, headers, dispatcher, ...(body ? { body } : {}) });
  await r.body.text();
  return r.statusCode;
}

function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.on('error', reject);
  });
}

describe('TLS and mutual TLS with certificates from bulwark certs init', () => {
  let trusted: DevCertFiles;
  let untrusted: DevCertFiles;
  let f: Fixture;
  let token = '';

  before(async () => {
    trusted = await createDevCerts({ dir: join(root, 'a'), clientUri: CLIENT_URI, hosts: [], days: 2, force: false });
    untrusted = await createDevCerts({ dir: join(root, 'b'), clientUri: CLIENT_URI, hosts: [], days: 2, force: false });
    const jwk = { ...(await exportJWK(es.publicKey)), kid: 'k1', alg: 'ES256' };
    f = await startFixture({
      server: { tls: { cert: trusted.server, key: trusted.serverKey, clientCa: trusted.ca, requireClientCert: false } },
      auth: {
        mtls: { identity: 'san-uri', roles: { [CLIENT_URI]: ['agent'] } },
        jwt: [{ issuer: 'https://idp.test', audience: 'api', jwks: { keys: [jwk] }, algorithms: ['ES256'] }],
      },
      routes: [
        { name: 'agents', match: { methods: ['GET'], path: '/v1/models' }, auth: { any: ['mtls'], roles: ['agent'] } },
        { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { all: ['mtls', 'jwt'], roles: ['user'] } },
      ],
    });
    token = await new SignJWT({ roles: ['user'] }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://idp.test').setAudience('api').setSubject('bob').setIssuedAt().setExpirationTime('5m').sign(es.privateKey);
  });
  after(() => f.close());

  it('the gateway serves HTTPS; a trusted client certificate is mapped to its roles', async () => {
    assert.match(f.url, /^https:/);
    const status = await get(f.url, '/v1/models', agent(trusted, trusted.ca));
    assert.equal(status, 200);
    assert.equal(f.mock.requests.at(-1)?.headers['x-bulwark-subject'], CLIENT_URI);
    assert.equal(f.mock.requests.at(-1)?.headers['x-bulwark-roles'], 'agent');
    assert.equal(f.mock.requests.at(-1)?.headers['x-forwarded-proto'], 'https');
  });

  it('no certificate, or one from another CA, is refused and never forwarded', async () => {
    const before = f.mock.requests.length;
    assert.equal(await get(f.url, '/v1/models', agent(undefined, trusted.ca)), 401);
    assert.equal(await get(f.url, '/v1/models', agent(untrusted, trusted.ca)), 401);
    assert.equal(f.mock.requests.length, before);
    assert.ok(f.events.some((e) => e.event.action === 'tls.client_rejected'));
  });

  it('a route requiring certificate and token: the certificate does not replace the token', async () => {
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const headers = { 'content-type': 'application/json' };
    assert.equal(await get(f.url, '/v1/chat/completions', agent(trusted, trusted.ca), headers, 'POST', body), 401);
    assert.equal(await get(f.url, '/v1/chat/completions', agent(undefined, trusted.ca), { ...headers, authorization: `Bearer ${token}` }, 'POST', body), 401);
    assert.equal(await get(f.url, '/v1/chat/completions', agent(trusted, trusted.ca), { ...headers, authorization: `Bearer ${token}` }, 'POST', body), 200);
    assert.equal(f.mock.requests.at(-1)?.headers['x-bulwark-subject'], 'bob');
  });

  it('a replaced certificate is served to new connections without a restart', async () => {
    const port = Number(new URL(f.url).port);
    assert.equal(await servedFingerprint(port), new X509Certificate(readFileSync(trusted.server)).fingerprint256);
    const next = await createDevCerts({ dir: join(root, 'c'), clientUri: CLIENT_URI, hosts: [], days: 2, force: false });
    copyFileSync(next.serverKey, trusted.serverKey);
    copyFileSync(next.server, trusted.server);
    const want = new X509Certificate(readFileSync(next.server)).fingerprint256;
    const deadline = Date.now() + 5000;
    let got = '';
    while (Date.now() < deadline) {
      got = await servedFingerprint(port);
      if (got === want) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(got, want);
  });
});

describe('requireClientCert: true', () => {
  it('the handshake fails without a trusted certificate', async () => {
    const files = await createDevCerts({ dir: join(root, 'd'), clientUri: CLIENT_URI, hosts: [], days: 2, force: false });
    const other = await createDevCerts({ dir: join(root, 'e'), clientUri: CLIENT_URI, hosts: [], days: 2, force: false });
    const f = await startFixture({
      server: { tls: { cert: files.server, key: files.serverKey, clientCa: files.ca, requireClientCert: true, minVersion: 'TLSv1.3' } },
      auth: { mtls: { identity: 'san-uri', roles: { [CLIENT_URI]: ['agent'] } } },
      routes: [{ name: 'agents', match: { methods: ['GET'], path: '/v1/models' }, auth: { any: ['mtls'], roles: ['agent'] } }],
    });
    try {
      await assert.rejects(get(f.url, '/v1/models', agent(undefined, files.ca)));
      await assert.rejects(get(f.url, '/v1/models', agent(other, files.ca)));
      assert.equal(await get(f.url, '/v1/models', agent(files, files.ca)), 200);
      assert.equal(f.mock.requests.length, 1);
    } finally {
      await f.close();
    }
  });
});
