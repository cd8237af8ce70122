import assert from 'node:assert/strict';
import { it } from 'node:test';
import { configSchema } from '../../config/schema.js';
import { certificateIdentity } from './index.js';

// Review of issue 12 point 6: a certificate whose identity is an Object.prototype name read the
// prototype's member as its roles (a function, not a list), and the auth stage threw on it.
it('a certificate named constructor or __proto__ gets no roles, not a prototype member', () => {
  const config = configSchema.parse({ version: 1, upstreams: { llm: { url: 'http://127.0.0.1:1' } }, routes: [], auth: { mtls: { identity: 'subject-cn', roles: { svc: ['user'] } } } });
  const mtls = config.auth.mtls;
  for (const cn of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const id = certificateIdentity({ authorized: true, subjectCN: cn, sanUris: [], sanDns: [], fingerprint256: 'x' }, mtls);
    assert.deepEqual(id?.roles, [], cn);
  }
  assert.deepEqual(certificateIdentity({ authorized: true, subjectCN: 'svc', sanUris: [], sanDns: [], fingerprint256: 'x' }, mtls)?.roles, ['user']);
});
