/**
 * Fresh random secrets and PII for the recognizer tests (G-8: canaries are generated anew on every
 * run, so no test passes because of a memorized value). Test-only; not imported by the library.
 */
import { randomBytes, randomInt } from 'node:crypto';
import assert from 'node:assert/strict';
import type { Finding, Recognizers } from './index.js';

export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const DIGITS = '0123456789';

export function pick(alphabet: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const b64url = (bytes: number): string => randomBytes(bytes).toString('base64url');
export const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export function luhnComplete(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

export function card(prefix: string, length: number): string {
  return luhnComplete(prefix + pick(DIGITS, length - prefix.length - 1));
}

function mod97(s: string): number {
  let rem = 0;
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    rem = c <= 57 ? (rem * 10 + (c - 48)) % 97 : (rem * 100 + (c - 55)) % 97;
  }
  return rem;
}

/** A random IBAN with a correct checksum, for a country and its BBAN. */
export function iban(country: string, bban: string): string {
  const check = 98 - mod97(`${bban}${country}00`);
  return `${country}${String(check).padStart(2, '0')}${bban}`;
}

export function spaced(s: string, every = 4): string {
  return s.match(new RegExp(`.{1,${every}}`, 'g'))?.join(' ') ?? s;
}

export function ssn(): string {
  let area = randomInt(1, 900);
  if (area === 666) area = 665;
  return `${String(area).padStart(3, '0')}-${String(randomInt(1, 100)).padStart(2, '0')}-${String(randomInt(1, 10000)).padStart(4, '0')}`;
}

export const b64json = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function jwt(header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  return `${b64json(header)}.${b64json({ sub: `user-${pick(ALNUM, 12)}`, iat: 1_700_000_000 })}.${b64url(32)}`;
}

export function pemBlock(kind = 'RSA PRIVATE KEY'): string {
  const body = randomBytes(600).toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----`;
}

/** Asserts exactly one finding, covering exactly `value` inside `text`, with this label (and class). */
export function assertOnly(rec: Recognizers, text: string, value: string, label: string, cls?: string): Finding {
  const found = rec.find(text);
  const at = text.indexOf(value);
  assert.ok(at >= 0, 'test bug: value not in text');
  assert.equal(found.length, 1, `expected one ${label} in ${JSON.stringify(text)}, got ${JSON.stringify(found)}`);
  const f = found[0] as Finding;
  assert.deepEqual([f.start, f.end, f.label], [at, at + value.length, label], JSON.stringify(text));
  if (cls) assert.equal(f.cls, cls);
  return f;
}

export function assertNone(rec: Recognizers, text: string): void {
  const found = rec.find(text);
  assert.deepEqual(
    found.map((f) => `${f.label}: ${text.slice(f.start, f.end)}`),
    [],
    `expected no findings in ${JSON.stringify(text)}`,
  );
}
