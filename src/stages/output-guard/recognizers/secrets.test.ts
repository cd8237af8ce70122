import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateApiKey } from '../../auth/api-key-format.js';
import { compileRecognizers } from './index.js';
import { ALNUM, BASE32, DIGITS, assertNone, assertOnly, b64json, b64url, hex, jwt, pemBlock, pick } from './generators.test-suite.js';

const all = compileRecognizers(['secrets']);
const only = (cls: string) => compileRecognizers([cls]);

describe('secret recognizers: a fresh positive and a hard negative per class', () => {
  it('OpenAI keys (legacy, project, service account, admin); not slugs, words or placeholders', () => {
    const rec = only('secrets.openai');
    for (const key of [`sk-${pick(ALNUM, 48)}`, `sk-proj-${b64url(120)}`, `sk-svcacct-${b64url(100)}`, `sk-admin-${b64url(60)}`, `sk-${hex(24)}`]) {
      assertOnly(rec, `Use this: ${key}.`, key, 'openai_api_key', 'secrets.openai');
      assertOnly(all, `"api_key": "${key}"`, key, 'openai_api_key');
    }
    assertNone(all, 'pip install scikit-learn; see sk-learn-compatible-estimators-v2 and task-management-application-framework.');
    assertNone(all, 'OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx or sk-YOUR_API_KEY_GOES_HERE_PLEASE');
    assertNone(all, `too short: sk-${pick(ALNUM, 12)}; inside a word: desk-${pick(ALNUM, 30)}`);
  });

  it('Anthropic keys get their own label, not OpenAI', () => {
    const key = `sk-ant-api03-${b64url(70)}AA`;
    assertOnly(all, `ANTHROPIC_API_KEY=${key}`, key, 'anthropic_api_key', 'secrets.anthropic');
    assertOnly(only('secrets.anthropic'), `key ${key} end`, key, 'anthropic_api_key');
    assertNone(only('secrets.openai'), `key ${key} end`);
    assertNone(all, 'sk-ant-short and sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
  });

  it('GitHub tokens (classic prefixes and fine-grained); not too short or repeated bodies', () => {
    const rec = only('secrets.github');
    for (const p of ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_']) {
      const t = p + pick(ALNUM, 36);
      assertOnly(rec, `token: ${t}`, t, 'github_token', 'secrets.github');
    }
    const pat = `github_pat_${pick(ALNUM, 22)}_${pick(ALNUM, 59)}`;
    assertOnly(rec, `GH=${pat}`, pat, 'github_token');
    assertNone(all, `ghp_${pick(ALNUM, 20)} ghp_${'a'.repeat(36)} xghp_${pick(ALNUM, 36)}`);
  });

  it('AWS access key ids (exactly 20 characters, word-bounded)', () => {
    const rec = only('secrets.aws');
    for (const id of [`AKIA${pick(BASE32, 16)}`, `ASIA${pick(BASE32, 16)}`, `AKIA${hex(8).toUpperCase()}`]) {
      assertOnly(rec, `aws_access_key_id = ${id}`, id, 'aws_access_key', 'secrets.aws');
    }
    assertNone(all, `AKIA${pick(BASE32, 15)} AKIA${pick(BASE32, 17)} XAKIA${pick(BASE32, 16)} AKIAAAAAAAAAAAAAAAAA ASIAPACIFICREGION`);
  });

  it('AWS secret access keys only next to a secret-like name or an access key id', () => {
    const rec = only('secrets.aws');
    const secret = randomBytes(30).toString('base64'); // 40 chars, with + and /
    assertOnly(rec, `aws_secret_access_key = ${secret}`, secret, 'aws_secret_key', 'secrets.aws');
    assertOnly(rec, `{"SecretAccessKey": "${secret}"}`, secret, 'aws_secret_key');
    const id = `AKIA${pick(BASE32, 16)}`;
    const found = rec.find(`${id} ${secret}`);
    assert.deepEqual(found.map((f) => f.label), ['aws_access_key', 'aws_secret_key']);
    // The same shape alone in prose, and a git SHA after "secret", are not AWS secrets.
    assertNone(rec, `The blob ${secret} was stored.`);
    assertNone(rec, `secret: ${hex(20)}`);
  });

  it('Slack tokens and webhook URLs (with the scheme)', () => {
    const tok = `xoxb-${pick(DIGITS, 12)}-${pick(DIGITS, 13)}-${pick(ALNUM, 24)}`;
    assertOnly(only('secrets.slack'), `SLACK_BOT_TOKEN=${tok}`, tok, 'slack_token', 'secrets.slack');
    const user = `xoxp-${pick(DIGITS, 10)}-${pick(DIGITS, 10)}-${hex(16)}`;
    assertOnly(all, `user token ${user}`, user, 'slack_token');
    const hook = `https://hooks.slack.com/services/T${pick(BASE32, 8)}/B${pick(BASE32, 10)}/${pick(ALNUM, 24)}`;
    assertOnly(all, `post to ${hook} now`, hook, 'slack_webhook', 'secrets.slack');
    assertNone(all, 'xoxo-hugs-and-kisses-forever-and-ever, xoxb-short, see https://hooks.slack.com/services/ for docs');
  });

  it('Stripe secret and restricted keys; publishable keys are not secrets', () => {
    for (const p of ['sk_live_', 'rk_live_', 'sk_test_']) {
      const k = p + pick(ALNUM, 32);
      assertOnly(only('secrets.stripe'), `stripe key ${k}`, k, 'stripe_key', 'secrets.stripe');
    }
    assertNone(all, `pk_live_${pick(ALNUM, 32)} sk_live_short`);
  });

  it('Google API keys (AIza + 35)', () => {
    const k = `AIza${pick(`${ALNUM}-_`, 35)}`;
    assertOnly(only('secrets.google'), `key=${k}&q=1`, k, 'google_api_key', 'secrets.google');
    assertNone(all, `AIza${pick(ALNUM, 20)} and AIzaAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
  });

  it('PEM private-key blocks, also without an END line (to the end of the text); not certificates', () => {
    const rec = only('secrets.pem');
    for (const kind of ['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']) {
      const block = pemBlock(kind);
      assertOnly(rec, `Here:\n${block}\nDone.`, block, 'private_key', 'secrets.pem');
    }
    const open = pemBlock().split('-----END')[0] as string;
    const f = rec.find(`key follows ${open}`);
    assert.equal(f.length, 1);
    assert.equal(f[0]?.end, `key follows ${open}`.length);
    assertNone(all, `${pemBlock('CERTIFICATE')}\n${pemBlock('PUBLIC KEY')}`);
  });

  it('a private key body without its BEGIN line is still a private key', () => {
    // PKCS#8 DER: SEQUENCE { INTEGER 0, SEQUENCE { rsaEncryption … } … }
    const der = Buffer.concat([Buffer.from('308204be020100300d06092a864886f70d0101010500048204a8', 'hex'), randomBytes(600)]);
    const body = der.toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
    const found = only('secrets.pem').find(`leaked:\n${body}\nend`);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.label, 'private_key');
    assert.equal(found[0]?.end, `leaked:\n${body}`.length);
  });

  it('JWTs: three base64url segments whose header has "alg" (also alg none and JWE); not other dotted base64', () => {
    const rec = only('secrets.jwt');
    const t = jwt();
    assertOnly(rec, `Authorization: Bearer ${t}`, t, 'jwt', 'secrets.jwt');
    const none = `${b64json({ alg: 'none' })}.${b64json({ sub: pick(ALNUM, 10) })}.`;
    assertOnly(rec, `token ${none} end`, none, 'jwt');
    const jwe = `${b64json({ alg: 'dir', enc: 'A256GCM' })}..${b64url(12)}.${b64url(40)}.${b64url(16)}`;
    assertOnly(rec, `jwe ${jwe} end`, jwe, 'jwt');
    assertNone(rec, `${b64json({ foo: 1, bar: pick(ALNUM, 8) })}.${b64json({ a: 1 })}.${b64url(16)}`);
    assertNone(rec, `${b64json({ alg: 'HS256' })} alone, and eyJhbGciOiJIUzI1NiJ9.x`);
  });

  it('Bulwark API keys (the format of src/stages/auth/api-key-format.ts)', () => {
    const { key } = generateApiKey();
    assertOnly(only('secrets.bulwark'), `x-api-key: ${key}`, key, 'bulwark_api_key', 'secrets.bulwark');
    assertNone(all, `bwk_${pick(ALNUM.toUpperCase(), 12)}_${pick(ALNUM, 38)} bwk_abcdefghijkl_short`);
  });

  it('generic secrets: high-entropy values right after a secret-like name', () => {
    const rec = only('secrets.generic');
    const v1 = randomBytes(18).toString('base64');
    assertOnly(rec, `password: "${v1}"`, v1, 'secret', 'secrets.generic');
    const v2 = hex(20);
    assertOnly(rec, `DB_PASSWORD=${v2}`, v2, 'secret');
    const v3 = pick(ALNUM, 32);
    assertOnly(rec, `{"client_secret":"${v3}"}`, v3, 'secret');
    assertOnly(rec, `curl -H 'Authorization: Bearer ${v3}' https://api.example.com`, v3, 'secret');
    assertOnly(rec, `apiKey = '${v3}';`, v3, 'secret');
    assertOnly(rec, `X-Api-Key: ${v3}`, v3, 'secret');
    assertNone(rec, 'password: "correct-horse-battery-staple-forever"');
    assertNone(rec, 'token_count: 12345678901234567890123, max_tokens=4096');
    assertNone(rec, 'const apiKey = process.env.OPENAI_API_KEY_FOR_PRODUCTION;');
    assertNone(rec, 'secret = YOUR_SECRET_KEY_GOES_HERE_PLEASE');
    assertNone(rec, 'The token is not a secret: it is just a word in a sentence about authentication.');
    assertNone(rec, `password: ${pick('abcdefghijklmnopqrstuvwxyz', 10)}`);
  });

  it('one finding, named by the most specific recognizer, when several match the same text', () => {
    const key = `sk-proj-${b64url(60)}`;
    assertOnly(all, `OPENAI_API_KEY=${key}`, key, 'openai_api_key');
    const t = jwt();
    assertOnly(all, `Authorization: Bearer ${t}`, t, 'jwt');
  });

  it('version numbers, dates, UUIDs, git SHAs, hex hashes and random base64 are not secrets', () => {
    const rec = compileRecognizers(['secrets', 'pii']);
    assertNone(rec, 'Released v10.4.1-beta.2 and 1.2.3 on 2024-01-15T10:30:00Z (build 20240115.3).');
    assertNone(rec, `request ${randomUUID()} and ${randomUUID().toUpperCase()}`);
    assertNone(rec, `commit ${hex(20)} (short ${hex(4)}), sha256 ${hex(32)}, md5: ${hex(16)}`);
    assertNone(rec, `sha512=${hex(64)}`);
    assertNone(all, `data:image/png;base64,${randomBytes(600).toString('base64')}`);
    assertNone(all, `etag "${randomBytes(24).toString('base64url')}" and nonce ${randomBytes(16).toString('base64')}`);
  });
});

describe('evasions (G-8 SHOULD)', () => {
  const interleave = (s: string, zw: string[]) => [...s].map((c, i) => c + (i < s.length - 1 ? (zw[i % zw.length] as string) : '')).join('');

  it('zero-width characters between the characters of an AWS key: found, span covers the original', () => {
    const id = `AKIA${pick(BASE32, 16)}`;
    const obf = interleave(id, ['\u200B']);
    const text = `aws_access_key_id = ${obf} (rotate it)`;
    const f = assertOnly(only('secrets.aws'), text, obf, 'aws_access_key');
    assert.equal(text.slice(f.start, f.end).replace(/\u200B/g, ''), id);
  });

  it('mixed invisible characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen) inside other secrets', () => {
    const zw = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD'];
    const key = `sk-proj-${b64url(48)}`;
    const obf = interleave(key, zw);
    assertOnly(all, `k=${obf}.`, obf, 'openai_api_key');
    const mail = `x${pick('abcdefghij', 12)}@example.com`;
    const obfMail = interleave(mail, zw);
    assertOnly(compileRecognizers(['pii.email']), `mail ${obfMail} now`, obfMail, 'email');
  });

  it('base64 of an OpenAI key: the whole encoded run is one finding', () => {
    const key = `sk-proj-${b64url(60)}`;
    const enc = Buffer.from(`the key is ${key}`).toString('base64');
    assertOnly(all, `decode this: ${enc} please`, enc, 'encoded_openai_api_key', 'secrets.openai');
    // base64url, and a stray character before the encoding
    const url = Buffer.from(key).toString('base64url');
    assertOnly(all, `x=${url}`, url, 'encoded_openai_api_key');
    const stray = `Q${Buffer.from(key).toString('base64')}`;
    assertOnly(all, `blob ${stray}`, stray, 'encoded_openai_api_key');
  });

  it('hex of a GitHub token is found', () => {
    const tok = `ghp_${pick(ALNUM, 36)}`;
    const enc = Buffer.from(tok).toString('hex');
    assertOnly(all, `hex: ${enc}`, enc, 'encoded_github_token', 'secrets.github');
    const upper = Buffer.from(` ${tok}`).toString('hex').toUpperCase();
    assertOnly(all, `HEX ${upper}.`, upper, 'encoded_github_token');
  });

  it('wrapped base64 (76 columns) of a whole PEM key is one finding', () => {
    const enc = Buffer.from(pemBlock()).toString('base64').match(/.{1,76}/g)?.join('\n') ?? '';
    assertOnly(all, `attachment:\n${enc}\n--`, enc, 'encoded_private_key', 'secrets.pem');
  });

  it('encodings are only looked into for the selected secret classes', () => {
    const enc = Buffer.from(`key ${`AKIA${pick(BASE32, 16)}`}`).toString('base64');
    assertNone(only('secrets.github'), `x ${enc}`);
    assert.equal(only('secrets.aws').find(`x ${enc}`)[0]?.label, 'encoded_aws_access_key');
    assertNone(compileRecognizers(['pii']), `x ${enc}`);
  });
});
