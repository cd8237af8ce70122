import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { compileRecognizers } from './index.js';
import { DIGITS, assertNone, assertOnly, card, iban, luhnComplete, pick, spaced, ssn } from './generators.test-suite.js';

const pii = compileRecognizers(['pii']);
const only = (cls: string) => compileRecognizers([cls]);
const lower = 'abcdefghijklmnopqrstuvwxyz';

describe('PII recognizers: a fresh positive and a hard negative per class', () => {
  it('e-mail addresses; not file names, handles or package versions', () => {
    const rec = only('pii.email');
    for (const addr of [`${pick(lower, 14)}@example.com`, `${pick(lower, 6)}.${pick(lower, 6)}+tag@mail.example.co.uk`, `X_${pick(DIGITS, 5)}@sub-domain.example.org`]) {
      assertOnly(rec, `Write to <${addr}>.`, addr, 'email', 'pii.email');
    }
    assertNone(pii, 'icon@2x.png, @username, npm i left-pad@1.3.0, user@localhost, a@b, foo@.com');
  });

  it('phone numbers: E.164 and common US/EU formats; not plain numbers, dates or versions', () => {
    const rec = only('pii.phone');
    const n = () => pick('23456789', 1) + pick(DIGITS, 2);
    for (const phone of [
      `+1 ${n()} ${n()} ${pick(DIGITS, 4)}`,
      `+1${n()}${n()}${pick(DIGITS, 4)}`,
      `(${n()}) ${n()}-${pick(DIGITS, 4)}`,
      `${n()}-${n()}-${pick(DIGITS, 4)}`,
      `${n()}.${n()}.${pick(DIGITS, 4)}`,
      `1-${n()}-${n()}-${pick(DIGITS, 4)}`,
      `+44 20 ${pick(DIGITS, 4)} ${pick(DIGITS, 4)}`,
      `+49 (0)30 ${pick(DIGITS, 8)}`,
      `030 ${pick(DIGITS, 8)}`,
      `06 ${pick(DIGITS, 2)} ${pick(DIGITS, 2)} ${pick(DIGITS, 2)} ${pick(DIGITS, 2)}`,
    ]) {
      assertOnly(rec, `Call ${phone} today.`, phone, 'phone', 'pii.phone');
    }
    assertNone(rec, `id ${pick('123456789', 1)}${pick(DIGITS, 9)}, on 2024-01-15 and 15.01.2024 and 01/02/2024, v10.15.7, ISBN 978-3-16-148410-0, 12 34`);
    assertNone(rec, 'Scores: 2 - 1, then 3 - 3; pages 120-135; the year 2023 and 1,250,000 people.');
  });

  it('US SSNs with or without separators; invalid areas, groups and serials are not', () => {
    const rec = only('pii.ssn');
    const s = ssn();
    assertOnly(rec, `SSN: ${s}.`, s, 'ssn', 'pii.ssn');
    const sp = s.replace(/-/g, ' ');
    assertOnly(rec, `number ${sp} on file`, sp, 'ssn');
    const bare = s.replace(/-/g, '');
    assertOnly(rec, `Social Security Number ${bare}`, bare, 'ssn');
    assertOnly(rec, `ssn=${bare}`, bare, 'ssn');
    // Without a cue, nine digits are just a number.
    assertNone(rec, `Order number ${bare} shipped.`);
    for (const bad of ['000-12-3456', '666-12-3456', '900-12-3456', '987-65-4321', '123-00-4567', '123-45-0000']) {
      assertNone(pii, `SSN: ${bad}`);
    }
    assertNone(rec, `ref 1${bare} and 12-${s} and ${s}-7`);
  });

  it('payment cards: Luhn-valid, known issuer, spaces/dashes/none; not Luhn-invalid or unknown issuers', () => {
    const rec = only('pii.card');
    const visa = card('4', 16);
    const cases = [visa, spaced(visa), spaced(visa).replace(/ /g, '-'), card('5' + String(randomInt(1, 6)), 16), card('37', 15), card('6011', 16), card('4', 13), card('62', 19)];
    const amex = card('34', 15);
    cases.push(`${amex.slice(0, 4)} ${amex.slice(4, 10)} ${amex.slice(10)}`);
    for (const c of cases) assertOnly(rec, `Card: ${c}, exp 12/29`, c, 'card_number', 'pii.card');
    const bad = visa.slice(0, 15) + String((Number(visa[15]) + 1) % 10);
    assertNone(pii, `Card: ${bad} and ${spaced(bad)}`);
    assertNone(pii, `Unknown issuer ${luhnComplete(`9${pick(DIGITS, 14)}`)}, timestamp ${luhnComplete(`17${pick(DIGITS, 10)}`)}`);
    assertNone(pii, `Too long: ${visa}${pick(DIGITS, 4)}; inside a word: x${visa}`);
  });

  it('IBANs with and without spaces; a wrong checksum is not', () => {
    const rec = only('pii.iban');
    const de = iban('DE', pick(DIGITS, 18));
    const gb = iban('GB', `${pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4)}${pick(DIGITS, 14)}`);
    const fr = iban('FR', pick(DIGITS, 23));
    for (const v of [de, spaced(de), gb, spaced(gb), fr, spaced(fr)]) assertOnly(rec, `IBAN: ${v}.`, v, 'iban', 'pii.iban');
    const wrong = `${de.slice(0, 10)}${(Number(de[10]) + 1) % 10}${de.slice(11)}`;
    // (Its digits may still look like a card or phone number to the other recognizers.)
    assertNone(rec, `IBAN: ${wrong} / ${spaced(wrong)}`);
    assertNone(rec, `DE${de.slice(2)}0 is too long; ${de.slice(0, 20)} too short`);
  });

  it('IP addresses: IPv4 and IPv6 (full, compressed); not loopback, unspecified or version-like', () => {
    const rec = only('pii.ip');
    const v4 = `${randomInt(1, 127)}.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    assertOnly(rec, `client ${v4} connected`, v4, 'ip_address', 'pii.ip');
    const g = () => randomInt(1, 0xffff).toString(16);
    for (const v6 of [`2001:db8:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}`, `2001:db8::${g()}:${g()}`, `fe80::1`, `::ffff:${v4}`]) {
      assertOnly(rec, `addr [${v6}]:443`, v6, 'ip_address');
    }
    assertNone(pii, '127.0.0.1, 0.0.0.0, ::1, 0:0:0:0:0:0:0:1, :: and localhost');
    assertNone(pii, 'version 1.2.3.4, v4.2.1.0, release 10.0.19041.1, 1.2.3, 999.1.1.1, 10.0.0.1.5, 3.1.4.1-beta');
    assertNone(pii, 'at 12:30:45, MAC 00:1a:2b:3c:4d:5e, std::vector, a::b, Note: dead beef');
  });

  it('text in other scripts and emoji gives no findings', () => {
    const rec = compileRecognizers(['secrets', 'pii']);
    assertNone(rec, 'Привет! Это обычный текст на русском языке про погоду 🌦️, путешествия ✈️ и рецепты пирогов 🥧. 12 марта, в 10:30.');
    assertNone(rec, '日本語のテキストです。絵文字👩‍👩‍👧‍👦とカタカナ、123と456。Ελληνικά κείμενα. العربية 😀');
    assertNone(rec, `${'🎉'.repeat(200)}${'ж'.repeat(300)}`);
  });

  it('only the selected class is found', () => {
    const email = `${pick(lower, 10)}@example.com`;
    const text = `Mail ${email}, card ${card('4', 16)}, key sk-proj-${pick(DIGITS + lower, 40)}, SSN ${ssn()}.`;
    const found = only('pii.email').find(text);
    assert.deepEqual(found.map((f) => f.label), ['email']);
    assert.deepEqual(
      compileRecognizers(['pii.card', 'secrets.openai']).find(text).map((f) => f.label),
      ['card_number', 'openai_api_key'],
    );
    assert.deepEqual(compileRecognizers(['pii']).find(text).map((f) => f.cls).sort(), ['pii.card', 'pii.email', 'pii.ssn']);
  });
});
