import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createDevCerts } from '../src/tls/dev-certs.js';
import { chatBody, startFixture } from './helpers/fixture.js';

it('a remote JWKS is cached; an unknown kid triggers one refresh, not one per request', async () => {
  let fetches = 0;
  let keys: JWK[] = [];
  const jwksServer = http.createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  const k1 = await generateKeyPair('ES256');
  const k2 = await generateKeyPair('ES256');
  keys = [{ ...(await exportJWK(k1.publicKey)), kid: 'k1', alg: 'ES256' }];
  const f = await startFixture({
    auth: { jwt: [{ issuer: 'https://idp.test', audience: 'api', jwks: jwksUrl, algorithms: ['ES256'] }] },
    routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt'] } }],
  });
  const sign = (key: typeof k1.privateKey, kid: string, sub = 's') => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setIssuer('https://idp.test').setAudience('api').setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(key);
  const call = async (t: string) => {
    const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` }, body: chatBody() });
    await r.arrayBuffer();
    return r.status;
  };
  try {
    assert.equal(await call(await sign(k1.privateKey, 'k1')), 200);
    assert.equal(await call(await sign(k1.privateKey, 'k1', 'other')), 200);
    assert.equal(fetches, 1, 'the key set is cached');
    // The issuer rotates: k2 appears. An unknown kid may refresh the set at most once per 30 s
    // cooldown; the set was fetched moments ago, so k2 is not known yet and no fetch happens.
    keys = [...keys, { ...(await exportJWK(k2.publicKey)), kid: 'k2', alg: 'ES256' }];
    assert.equal(await call(await sign(k2.privateKey, 'k2')), 401);
    assert.equal(fetches, 1, 'within the cooldown an unknown kid does not refetch');
    // Random kids never become a fetch per request.
    const before = fetches;
    for (let i = 0; i < 10; i++) assert.equal(await call(await sign(k1.privateKey, `random-${i}`)), 401);
    assert.equal(fetches - before, 0, 'random kids never become a fetch per request');
  } finally {
    await f.close();
    await new Promise<void>((r) => jwksServer.close(() => r()));
  }
});

it('upstream TLS with a custom CA and a gateway client certificate', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-up-tls-'));
  const certs = await createDevCerts({ dir, clientUri: 'spiffe://bulwark.local/gateway', hosts: [], days: 2, force: false });
  let seenClient = '';
  const upstream = https.createServer({ cert: readFileSync(certs.server), key: readFileSync(certs.serverKey), ca: readFileSync(certs.ca), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seenClient = (req.socket as TLSSocket).getPeerCertificate().subjectaltname ?? '';
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const url = `https://localhost:${(upstream.address() as AddressInfo).port}`;
  const withClient = await startFixture({ upstreams: { llm: { url, tls: { ca: certs.ca, cert: certs.client, key: certs.clientKey } } }, routes: [{ name: 'm', match: { methods: ['GET'], path: '/v1/models' }, auth: { public: true } }] });
  const noClient = await startFixture({ upstreams: { llm: { url, tls: { ca: certs.ca } } }, routes: [{ name: 'm', match: { methods: ['GET'], path: '/v1/models' }, auth: { public: true } }] });
  const wrongCa = await startFixture({ upstreams: { llm: { url } }, routes: [{ name: 'm', match: { methods: ['GET'], path: '/v1/models' }, auth: { public: true } }] });
  try {
    const ok = await fetch(`${withClient.url}/v1/models`);
    assert.equal(ok.status, 200);
    assert.match(seenClient, /spiffe:\/\/bulwark\.local\/gateway/);
    assert.equal((await fetch(`${noClient.url}/v1/models`)).status, 502, 'the upstream requires the gateway certificate');
    assert.equal((await fetch(`${wrongCa.url}/v1/models`)).status, 502, 'an upstream certificate that does not verify is never trusted');
  } finally {
    await withClient.close();
    await noClient.close();
    await wrongCa.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  }
});
