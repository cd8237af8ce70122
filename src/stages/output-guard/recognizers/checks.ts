/** Validators that keep the recognizers' false positives down. All linear in their input. */
import { DIGIT, LOWER, UPPER, cc } from './text.js';

/** Luhn checksum over a string of ASCII digits. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** Whether a 13–19 digit number starts with an issuer prefix (IIN) of a known card network, for its length. */
export function knownIin(d: string): boolean {
  const len = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  switch (d.charCodeAt(0) - 48) {
    case 2: // Mastercard 2-series; Mir
      return (p4 >= 2221 && p4 <= 2720 && len === 16) || (p4 >= 2200 && p4 <= 2204 && len >= 16);
    case 3: // Amex; Diners; JCB
      if (p2 === 34 || p2 === 37) return len === 15;
      if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return len >= 14;
      return p4 >= 3528 && p4 <= 3589 && len >= 16;
    case 4: // Visa
      return len === 13 || len === 16 || len === 19;
    case 5: // Mastercard; Maestro
      if (p2 >= 51 && p2 <= 55) return len === 16;
      return p2 === 50 || p2 >= 56;
    case 6: // Discover, UnionPay, Maestro, RuPay, Troy
      if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return len >= 16;
      return p2 === 62 ? len >= 16 : len >= 13;
    default:
      return false;
  }
}

/** IBAN lengths by country (ISO 13616 registry). */
export const IBAN_LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18,
  FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24,
  ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29,
  PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23,
  ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** ISO 7064 mod-97-10 over an upper-case compact IBAN: the remainder must be 1. */
export function ibanChecksumOk(iban: string): boolean {
  if (iban.length < 5) return false;
  let rem = 0;
  const n = iban.length;
  for (let k = 0; k < n; k++) {
    const c = iban.charCodeAt((k + 4) % n);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

const COUNTS = new Int32Array(128);

/** Shannon entropy in bits per character (ASCII; anything else counts as one symbol). */
export function entropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  COUNTS.fill(0);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const k = c < 128 ? c : 127;
    COUNTS[k] = (COUNTS[k] as number) + 1;
  }
  let h = 0;
  for (let c = 0; c < 128; c++) {
    const k = COUNTS[c] as number;
    if (k === 0) continue;
    const p = k / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Number of distinct characters. */
export function distinct(s: string): number {
  COUNTS.fill(0);
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 127;
    if (COUNTS[c] === 0) d++;
    COUNTS[c] = 1;
  }
  return d;
}

/**
 * A single-case run of short words joined by `-`, `_` or `.` (`sk-learn-compatible-v2`,
 * `YOUR_API_KEY_HERE`): a name or a placeholder, not a random secret.
 */
export function slugLike(s: string): boolean {
  let lower = false;
  let upper = false;
  let seps = 0;
  let digits = 0;
  let seg = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const k = cc(c);
    if (c === 45 || c === 95 || c === 46) {
      seps++;
      seg = 0;
      continue;
    }
    if (++seg > 12) return false;
    if (k & LOWER) lower = true;
    else if (k & UPPER) upper = true;
    else if (k & DIGIT) digits++;
    else return false;
  }
  return seps > 0 && !(lower && upper) && digits * 4 <= s.length;
}

/**
 * The body of a prefixed token (`sk-…`, `ghp_…`, `xoxb-…`) looks random enough: long enough, not a
 * slug or placeholder, enough distinct characters, not a repetition.
 */
export function tokenLike(body: string, minLen: number): boolean {
  if (body.length < minLen || slugLike(body)) return false;
  return distinct(body) >= Math.min(8, Math.ceil(body.length / 3)) && entropy(body) >= 2.5;
}

/** Counts of character classes in `s`. */
function classes(s: string): { lower: number; upper: number; digit: number; other: number } {
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let other = 0;
  for (let i = 0; i < s.length; i++) {
    const k = cc(s.charCodeAt(i));
    if (k & LOWER) lower++;
    else if (k & UPPER) upper++;
    else if (k & DIGIT) digit++;
    else other++;
  }
  return { lower, upper, digit, other };
}

/** `process.env.OPENAI_API_KEY`, `config.auth.token`: a reference to a secret, not a secret. */
function dottedName(s: string): boolean {
  if (s.indexOf('.') === -1) return false;
  for (const seg of s.split('.')) {
    if (!/^[A-Za-z_$]+[0-9]{0,2}$/.test(seg)) return false;
  }
  return true;
}

/** Shannon entropy a generic secret value must reach (bits per character). */
export const GENERIC_MIN_ENTROPY = 3;

/**
 * A value after `password:` / `token=` / `Authorization: Bearer` is a secret: at least 20
 * characters, letters and digits (or mixed case with high entropy), not a slug, placeholder or
 * dotted name, and above the entropy threshold.
 */
export function secretValue(v: string): boolean {
  if (v.length < 20) return false;
  const k = classes(v);
  if (k.lower + k.upper === 0) return false;
  const h = entropy(v);
  if (k.digit === 0 && !(k.lower > 0 && k.upper > 0 && h >= 4)) return false;
  if (slugLike(v) || dottedName(v)) return false;
  return h >= GENERIC_MIN_ENTROPY;
}

/** A 40-character AWS secret access key candidate: base64-ish, mixed, not a hex digest. */
export function awsSecretLike(v: string): boolean {
  if (v.length !== 40) return false;
  const k = classes(v);
  const kinds = (k.lower > 0 ? 1 : 0) + (k.upper > 0 ? 1 : 0) + (k.digit > 0 ? 1 : 0) + (k.other > 0 ? 1 : 0);
  if (kinds < 3) return false; // hex digests (one case + digits) and words are out
  return entropy(v) >= 3.5;
}

/** Whether `seg` (base64url) decodes to a JSON object with an `alg` (JWS/JWE protected header). */
export function jwtHeader(seg: string): boolean {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Record<string, unknown>).alg === 'string';
}

/**
 * Whether DER bytes start like an unencrypted private key: SEQUENCE { INTEGER 0|1, … } as in
 * PKCS#1 (RSA), PKCS#8 and SEC1 (EC). Certificates and public keys start SEQUENCE { SEQUENCE … }.
 */
export function derPrivateKey(b: Uint8Array): boolean {
  if (b.length < 8 || b[0] !== 0x30) return false;
  const l = b[1] as number;
  const at = l < 0x80 ? 2 : l >= 0x81 && l <= 0x83 ? 2 + (l - 0x80) : -1;
  if (at < 0 || b[at] !== 0x02 || b[at + 1] !== 0x01) return false;
  const version = b[at + 2];
  const next = b[at + 3];
  if (version === 0) return next === 0x30 || next === 0x02;
  if (version === 1) return next === 0x04 || next === 0x30;
  return false;
}


const B64_VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((ch, v) => {
  B64_VALUE[ch.charCodeAt(0)] = v;
});
B64_VALUE[45] = 62; // '-' (base64url)
B64_VALUE[95] = 63; // '_' (base64url)

function sextet(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? (B64_VALUE[c] as number) : -1;
}

/** Tracks the longest run of printable ASCII bytes. */
class PrintableRun {
  run = 0;
  found = false;
  constructor(readonly min: number) {}
  byte(b: number): void {
    if (b >= 32 && b < 127) {
      if (++this.run >= this.min) this.found = true;
    } else this.run = 0;
  }
}

/**
 * `s` (base64 or base64url characters) decoded from offset `k` as latin1 text, when the bytes have
 * a run of `min` printable ASCII characters (any secret does); undefined otherwise, without
 * allocating.
 */
export function decodeBase64Printable(s: string, k: number, min: number): string | undefined {
  const p = new PrintableRun(min);
  const n = s.length;
  for (let i = k; i + 1 < n && !p.found; i += 4) {
    const a = sextet(s, i);
    const b = sextet(s, i + 1);
    if (a < 0 || b < 0) return undefined;
    p.byte(((a << 2) | (b >> 4)) & 255);
    if (i + 2 >= n) break;
    const c = sextet(s, i + 2);
    if (c < 0) return undefined;
    p.byte(((b & 15) << 4) | (c >> 2));
    if (i + 3 >= n) break;
    const d = sextet(s, i + 3);
    if (d < 0) return undefined;
    p.byte(((c & 3) << 6) | d);
  }
  return p.found ? Buffer.from(s.slice(k), 'base64').toString('latin1') : undefined;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** Hex digits `s[from, to)` decoded as latin1 text, when they have a printable run of `min`; else undefined. */
export function decodeHexPrintable(s: string, from: number, to: number, min: number): string | undefined {
  const p = new PrintableRun(min);
  for (let i = from; i + 1 < to && !p.found; i += 2) {
    const hi = nibble(s.charCodeAt(i));
    const lo = nibble(s.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return undefined;
    p.byte((hi << 4) | lo);
  }
  return p.found ? Buffer.from(s.slice(from, to - ((to - from) & 1)), 'hex').toString('latin1') : undefined;
}
