import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { RECOGNIZER_CLASSES, compileRecognizers, isTokenChar, openPrefix } from './index.js';
import { ALNUM, BASE32, b64url, card, jwt, pemBlock, pick, ssn } from './generators.test-suite.js';

describe('recognizer classes and selection', () => {
  it('lists the groups and every sub-class, and each one compiles', () => {
    for (const c of ['secrets', 'pii', 'secrets.openai', 'secrets.anthropic', 'secrets.github', 'secrets.aws', 'secrets.slack', 'secrets.stripe', 'secrets.google', 'secrets.pem', 'secrets.jwt', 'secrets.bulwark', 'secrets.generic', 'pii.email', 'pii.phone', 'pii.ssn', 'pii.card', 'pii.iban', 'pii.ip']) {
      assert.ok(RECOGNIZER_CLASSES.includes(c), c);
    }
    for (const c of RECOGNIZER_CLASSES) assert.ok(compileRecognizers([c]));
  });

  it('an unknown class throws an Error naming it', () => {
    assert.throws(() => compileRecognizers(['secrets', 'secrets.nope']), (e: unknown) => e instanceof Error && e.message.includes('"secrets.nope"'));
    assert.throws(() => compileRecognizers(['PII']), /"PII"/);
  });

  it('"secrets" selects every secrets.* class, "pii" every pii.* class, nothing selects nothing', () => {
    const key = `ghp_${pick(ALNUM, 36)}`;
    const mail = `${pick('abcdefgh', 10)}@example.com`;
    const text = `${key} ${mail} ${card('4', 16)}`;
    assert.deepEqual(compileRecognizers(['secrets']).find(text).map((f) => f.cls), ['secrets.github']);
    assert.deepEqual(compileRecognizers(['pii']).find(text).map((f) => f.cls), ['pii.email', 'pii.card']);
    const none = compileRecognizers([]);
    assert.deepEqual(none.find(text), []);
    assert.equal(none.maxSpan, 0);
    assert.equal(none.openPrefix('sk-'), undefined);
  });

  it('maxSpan is the longest bounded match of the selection; PEM and JWT are open-ended', () => {
    const full = compileRecognizers(['secrets', 'pii']);
    assert.ok(full.maxSpan >= 254 && full.maxSpan <= 512, String(full.maxSpan));
    assert.equal(compileRecognizers(['pii.card']).maxSpan, 37);
    assert.equal(compileRecognizers(['secrets.aws']).maxSpan >= 40, true);
    assert.equal(compileRecognizers(['secrets.pem', 'secrets.jwt']).maxSpan, 0);
    // Every bounded finding in a realistic text fits in maxSpan.
    const text = `p: ${`+44 20 ${pick('0123456789', 4)} ${pick('0123456789', 4)}`} ${card('4', 16).replace(/(\d{4})/g, '$1 ')} ${pick('abcdefgh', 60)}@${pick('abcdefgh', 60)}.example.com password="${randomBytes(100).toString('base64')}"`;
    for (const f of full.find(text)) assert.ok(f.end - f.start <= full.maxSpan, f.label);
  });
});

describe('find(): offsets and overlaps', () => {
  it('findings are sorted, non-overlapping, and their offsets slice out the secrets', () => {
    const rec = compileRecognizers(['secrets', 'pii']);
    const parts = [`sk-proj-${b64url(40)}`, `AKIA${pick(BASE32, 16)}`, jwt(), ssn(), card('5' + '1', 16), `${pick('abcdefgh', 8)}@example.org`];
    const text = parts.map((p, i) => `item ${i}: ${p}`).join('\n');
    const found = rec.find(text);
    assert.equal(found.length, parts.length);
    for (let i = 0; i < found.length; i++) {
      const f = found[i];
      assert.ok(f);
      assert.equal(text.slice(f.start, f.end), parts[i]);
      if (i > 0) assert.ok(f.start >= (found[i - 1]?.end ?? 0));
    }
  });

  it('an empty text, and prose, have no findings', () => {
    const rec = compileRecognizers(['secrets', 'pii']);
    assert.deepEqual(rec.find(''), []);
    assert.deepEqual(rec.find('The quick brown fox jumps over the lazy dog. It was 3 p.m. on 4 July; see section 2.1 (page 12).'), []);
  });
});

describe('openPrefix(): where a secret still being written starts', () => {
  const rec = compileRecognizers(['secrets', 'pii']);
  const cases: Array<[string, string]> = [
    // [text before, text that may still grow into a secret]
    ['Here is the key: ', '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA'],
    ['key:\n', '-----BEGIN OPENSSH PRIV'],
    ['Here: ', `-----BEGIN PRIVATE KEY-----\n${randomBytes(60).toString('base64')}\n-----END PRIV`],
    ['The key is ', 'sk-pr'],
    ['The key is ', 's'],
    ['token ', 'eyJhbGciOi'],
    ['id=', 'AKIA12'],
    ['gh ', 'ghp_abc'],
    ['slack ', 'xox'],
    ['{"', 'api_key": "sk-proj-abc'],
    ['Card: ', '4111 1111 '],
    ['Card: ', '4111-1111-1111'],
    ['call ', '+1 (415) '],
    ['SSN ', '123 45 '],
    ['IBAN ', 'DE89 3704 0044 '],
    ['\n', 'password: '],
    ['curl -H "', 'Authorization: Bearer '],
    ['{"', 'client_secret": "'],
    ['mail me at ', 'jane.doe@exa'],
  ];
  for (const [before, open] of cases) {
    it(`${JSON.stringify(before + open)} is open at ${before.length}`, () => {
      assert.equal(openPrefix(before + open), before.length);
      assert.equal(rec.openPrefix(before + open), before.length);
    });
  }

  it('is undefined when nothing can still grow into a secret', () => {
    for (const t of ['Hello world. ', 'The answer is yes', `Done:\n${pemBlock()}\nThanks.`, '-----BEGIN CERTIFICATE-----\nMIIB', 'a task', 'I said: ', 'Привет, мир! 🎉', 'Word0 ', 'use v2 ', 'step_12 ', '']) {
      assert.equal(openPrefix(t), undefined, JSON.stringify(t));
    }
  });

  it('answers in offsets of the original text when invisible characters are in it', () => {
    const t = 'key \u200Bis s\u200Bk\u2060-pr';
    assert.equal(openPrefix(t), t.indexOf('s\u200Bk'));
  });

  it('follows the selection', () => {
    assert.equal(compileRecognizers(['pii.email']).openPrefix('key sk-pr'), undefined);
    assert.equal(compileRecognizers(['secrets.openai']).openPrefix('key sk-pr'), 4);
    assert.equal(compileRecognizers(['secrets.openai']).openPrefix('Card 4111 1111 '), undefined);
  });
});

describe('isTokenChar', () => {
  it('letters, digits, _ - + / = . @ and invisible characters continue a run; space, punctuation and other scripts do not', () => {
    for (const ch of 'aZ09_-+/=.@%~\u200B\u200D\u2060\uFEFF\u00AD') assert.ok(isTokenChar(ch.charCodeAt(0)), JSON.stringify(ch));
    for (const ch of ' \n\t:,;"\'`()[]{}<>\\|жé😀') assert.ok(!isTokenChar(ch.charCodeAt(0)), JSON.stringify(ch));
  });
});

describe('hostile input stays linear (each would take minutes if any recognizer were quadratic)', () => {
  const rec = compileRecognizers(['secrets', 'pii']);
  const n = 200_000;
  const inputs: Record<string, string> = {
    'sk- repeated': 'sk-'.repeat(n / 3),
    'eyJ- repeated': 'eyJ-'.repeat(n / 4),
    'eyJ. repeated': 'eyJ.'.repeat(n / 4),
    'xoxb- repeated': 'xoxb-'.repeat(n / 5),
    'one long token': 'A'.repeat(n),
    'digits and spaces': '1 '.repeat(n / 2),
    'digits and dashes': '4-'.repeat(n / 2),
    'long digit run': '4'.repeat(n),
    '@ signs': 'a@'.repeat(n / 2),
    'dots and @': 'a.'.repeat(n / 2) + '@',
    colons: '1:'.repeat(n / 2),
    'password= repeated': 'password='.repeat(n / 9),
    'token: repeated': 'token: a1'.repeat(n / 9),
    'bearer repeated': 'bearer '.repeat(n / 7),
    'BEGIN lines': '-----BEGIN RSA PRIVATE KEY-----'.repeat(n / 32),
    'base64 blob': randomBytes(n).toString('base64'),
    'hex blob': randomBytes(n / 2).toString('hex'),
    'invisible': '\u200B'.repeat(n),
    'IBAN-like': 'DE12 '.repeat(n / 5),
  };
  for (const [name, text] of Object.entries(inputs)) {
    it(name, () => {
      rec.find(text);
      rec.openPrefix(text);
      rec.find(text.slice(0, 512));
    });
  }
});
