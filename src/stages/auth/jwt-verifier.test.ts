import assert from 'node:assert/strict';
import { it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createJwtVerifier } from './jwt-verifier.js';

it('a cached token is still refused once it expires', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' };
  const v = createJwtVerifier([{ issuer: 'i', audience: 'a', jwks: { keys: [jwk as Record<string, unknown>] }, algorithms: ['ES256'], clockSkew: 0, rolesClaim: 'roles' }]);
  const exp = Math.floor(Date.now() / 1000) + 2;
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer('i').setAudience('a').setSubject('s').setIssuedAt().setExpirationTime(exp).sign(privateKey);
  assert.equal((await v.verify(token)).ok, true);
  assert.equal((await v.verify(token)).ok, true, 'served from the cache');
  await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 200));
  const after = await v.verify(token);
  assert.equal(after.ok, false);
  assert.equal(!after.ok && after.reason, 'expired');
});

it('a token differing only in its signature is not served from the cache', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' };
  const v = createJwtVerifier([{ issuer: 'i', audience: 'a', jwks: { keys: [jwk as Record<string, unknown>] }, algorithms: ['ES256'], clockSkew: 0, rolesClaim: 'roles' }]);
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer('i').setAudience('a').setSubject('s').setIssuedAt().setExpirationTime('5m').sign(privateKey);
  assert.equal((await v.verify(token)).ok, true);
  const [h, p, s] = token.split('.') as [string, string, string];
  const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
  assert.equal((await v.verify(flipped)).ok, false);
});
