/**
 * PII recognizers. Numbers (cards, SSNs, phone numbers, IPv4, IBANs) are found in one pass over
 * the digit runs, each tried with hand-written parsers from its first digit; e-mail addresses from
 * each `@`, IPv6 addresses from each `:`. Everything is linear: every parser looks at a bounded
 * number of characters from its start, and the scans move forward past what they matched.
 */
import { IBAN_LENGTH, ibanChecksumOk, knownIin, luhn } from './checks.js';
import { ALNUM, HEX, LOCAL, LOWER, UPPER, cc, isAlnum, isDigit } from './text.js';

export type PiiSink = (start: number, end: number, cls: string, label: string) => void;

export interface NumericSelection {
  card: boolean;
  ssn: boolean;
  phone: boolean;
  ipv4: boolean;
  iban: boolean;
}

/** Longest text each recognizer needs (the match plus the context it reads), for `maxSpan`. */
export const PII_MAX_LEN = {
  email: 64 + 1 + 190,
  phone: 24,
  ssn: 48 + 11 + 32,
  card: 19 + 18,
  iban: 34 + 8,
  ip: 45,
} as const;

const FIRST_DIGIT = /[0-9]/g;

function isLetter(c: number): boolean {
  return (cc(c) & (UPPER | LOWER)) !== 0;
}

/** Cards, SSNs, phone numbers, IPv4 addresses and IBANs in `t`. */
export function numericPii(t: string, sel: NumericSelection, push: PiiSink): void {
  // `test` (not `exec`): no match object per number.
  FIRST_DIGIT.lastIndex = 0;
  while (FIRST_DIGIT.test(t)) {
    const s = FIRST_DIGIT.lastIndex - 1;
    let runEnd = s + 1;
    while (isDigit(t.charCodeAt(runEnd))) runEnd++;
    const prev = t.charCodeAt(s - 1);
    let end = -1;
    if (sel.iban && s >= 2 && isLetter(prev) && isLetter(t.charCodeAt(s - 2)) && !isAlnum(t.charCodeAt(s - 3))) {
      const e = ibanAt(t, s - 2);
      if (e !== undefined) {
        push(s - 2, e, 'pii.iban', 'iban');
        end = e;
      }
    }
    // Not inside a word (`v2`, `abc123`) or a dotted number (`1.2.3`: tried from its first part).
    if (end < 0 && !(cc(prev) & ALNUM) && prev !== 95 && !(prev === 46 && isDigit(t.charCodeAt(s - 2)))) {
      // Cheap shape checks on the first group before any parser runs: most numbers in prose
      // ("in 2023,", "45 percent") are none of these.
      const len = runEnd - s;
      const c = t.charCodeAt(s + len);
      const c1 = t.charCodeAt(s + len + 1);
      const sepDigit = (c === 32 || c === 45 || c === 46 || c === 47) && isDigit(c1);
      if (sel.ipv4 && c === 46 && len <= 3 && isDigit(c1)) {
        const e = ipv4At(t, s);
        if (e !== undefined) {
          push(s, e, 'pii.ip', 'ip_address');
          end = Math.max(end, e);
        }
      }
      if (sel.ssn && (len === 9 || (len === 3 && (c === 45 || c === 32) && isDigit(c1)))) {
        const e = ssnAt(t, s);
        if (e !== undefined) {
          push(s, e, 'pii.ssn', 'ssn');
          end = Math.max(end, e);
        }
      }
      if (sel.card && (len >= 13 ? len <= 19 : len <= 8 && (c === 32 || c === 45) && isDigit(c1))) {
        const e = cardAt(t, s);
        if (e !== undefined) {
          push(s, e, 'pii.card', 'card_number');
          end = Math.max(end, e);
        }
      }
      const plus = (prev === 43 || prev === 40) && !isAlnum(t.charCodeAt(s - 2));
      // A phone number does not start in the middle of a longer grouped number ("4317 0290 1739").
      const continues = (prev === 32 || prev === 45 || prev === 46 || prev === 47) && isDigit(t.charCodeAt(s - 2));
      const shape = (sepDigit || c === 41 || (c === 32 && c1 === 40)) && (len === 1 || len === 3 || t.charCodeAt(s) === 48);
      if (sel.phone && end < 0 && (plus || (shape && !continues))) {
        const p = plus ? s - 1 : s;
        const e = phoneAt(t, p);
        if (e !== undefined) {
          push(p, e, 'pii.phone', 'phone');
          end = e;
        }
      }
    }
    FIRST_DIGIT.lastIndex = Math.max(end, runEnd);
  }
}

// ---------------------------------------------------------------------------------------------
// Payment cards: 13–19 digits, contiguous or in groups with one consistent separator (space or
// dash), Luhn-valid, known issuer prefix for the length.

function cardAt(t: string, s: number): number | undefined {
  let digits = '';
  let i = s;
  let sep = -1;
  // Candidate ends: after each group, [digit count, offset].
  const ends: number[] = [];
  for (;;) {
    const g = i;
    while (isDigit(t.charCodeAt(i))) i++;
    digits += t.slice(g, i);
    if (digits.length > 19) {
      // More digits than any card: a contiguous run is something else; with groups, stop here.
      if (ends.length === 0) return undefined;
      break;
    }
    ends.push(digits.length, i);
    const c = t.charCodeAt(i);
    if ((c === 32 || c === 45) && (sep === -1 || c === sep) && isDigit(t.charCodeAt(i + 1))) {
      sep = c;
      i++;
      continue;
    }
    break;
  }
  const last = ends.length - 2;
  for (let k = last; k >= 0; k -= 2) {
    const n = ends[k] as number;
    const e = ends[k + 1] as number;
    if (n < 13) break;
    if (n > 19) continue;
    if (k === last && (isAlnum(t.charCodeAt(e)) || t.charCodeAt(e) === 95)) continue;
    const d = digits.slice(0, n);
    if (knownIin(d) && luhn(d)) return e;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// US SSNs: AAA-GG-SSSS or AAA GG SSSS (area not 000/666/9xx, group not 00, serial not 0000);
// nine digits without separators only next to a cue ("SSN", "social security").

const SSN = /([0-9]{3})([- ]?)([0-9]{2})\2([0-9]{4})/y;
const SSN_CUE = /\bssns?\b|social[ _-]?security|soc\.? ?sec\b/i;

function ssnAt(t: string, s: number): number | undefined {
  const before = t.charCodeAt(s - 1);
  if ((before === 45 || before === 46) && isDigit(t.charCodeAt(s - 2))) return undefined; // 12-345-67-8901
  SSN.lastIndex = s;
  const m = SSN.exec(t);
  if (!m) return undefined;
  const e = s + m[0].length;
  const next = t.charCodeAt(e);
  if (isAlnum(next) || ((next === 45 || next === 46) && isDigit(t.charCodeAt(e + 1)))) return undefined;
  const area = m[1] as string;
  if (area === '000' || area === '666' || area.charCodeAt(0) === 57 || m[3] === '00' || m[4] === '0000') return undefined;
  if (m[2] === '') {
    const around = t.slice(Math.max(0, s - 48), s) + ' ' + t.slice(e, e + 32);
    if (!SSN_CUE.test(around)) return undefined;
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Phone numbers: E.164 (`+` and 8–15 digits, separators allowed), US (`(555) 123-4567`,
// `555-123-4567`, `555.123.4567`, optional leading 1) and European national numbers (leading 0,
// 9–12 digits in groups with one consistent separator). Plain digit runs without `+` are not
// phone numbers; dates and versions fail the group shapes.

function phoneAt(t: string, p: number): number | undefined {
  let i = p;
  const plus = t.charCodeAt(i) === 43;
  if (plus) i++;
  const sizes: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const seps: number[] = []; // separator after group k (0 = none)
  const parens: boolean[] = [];
  while (sizes.length < 7 && i - p <= 24) {
    let paren = false;
    if (t.charCodeAt(i) === 40) {
      paren = true;
      i++;
    }
    const g = i;
    const cap = plus && sizes.length === 0 ? 15 : 8; // "+14155552671" is one group
    while (isDigit(t.charCodeAt(i)) && i - g <= cap) i++;
    const n = i - g;
    if (n === 0 || n > cap || (paren && t.charCodeAt(i) !== 41)) break;
    if (paren) i++;
    sizes.push(n);
    starts.push(g);
    ends.push(i);
    parens.push(paren);
    const c = t.charCodeAt(i);
    const after = t.charCodeAt(i + 1);
    if ((c === 32 || c === 45 || c === 46 || c === 47) && (isDigit(after) || (after === 40 && c === 32))) {
      seps.push(c);
      i++;
    } else if ((paren && isDigit(c)) || (c === 40 && isDigit(after))) seps.push(0);
    else break;
  }
  for (let k = sizes.length; k >= 1; k--) {
    const e = ends[k - 1] as number;
    if (isAlnum(t.charCodeAt(e))) continue;
    if (k < sizes.length && seps[k - 1] !== 32) continue; // a shorter number only before a space
    if (phoneShape(t, plus, sizes.slice(0, k), starts, seps.slice(0, k - 1), parens)) return e;
  }
  return undefined;
}

function phoneShape(t: string, plus: boolean, sizes: number[], starts: number[], seps: number[], parens: boolean[]): boolean {
  let total = 0;
  for (const n of sizes) total += n;
  if (plus) {
    if (total < 8 || total > 15) return false;
    return sizes.length === 1 || ((sizes[0] as number) <= 4 && !seps.includes(47));
  }
  if (seps.includes(47) && !(t.charCodeAt(starts[0] as number) === 48 && sizes.length === 2)) return false;
  // US: [1] AAA EEE NNNN, area code 2-9xx, the area code in parentheses or one separator throughout.
  const off = sizes.length === 4 && sizes[0] === 1 && t.charCodeAt(starts[0] as number) === 49 ? 1 : 0;
  if (sizes.length - off === 3 && sizes[off] === 3 && sizes[off + 1] === 3 && sizes[off + 2] === 4) {
    if (!parens[off] && !(seps[off] !== 0 && seps[off] === seps[off + 1])) return false;
    const a = t.charCodeAt(starts[off] as number);
    return a >= 50 && a <= 57;
  }
  // European national numbers: leading 0 (not 000), 9–12 digits, groups of 2+ with one separator,
  // not shaped like an SSN (3-2-4).
  const s0 = starts[0] as number;
  if (t.charCodeAt(s0) !== 48 || (t.charCodeAt(s0 + 1) === 48 && t.charCodeAt(s0 + 2) === 48)) return false;
  if (total < 9 || total > 12 || sizes.length < 2) return false;
  if (sizes.length === 3 && sizes[0] === 3 && sizes[1] === 2 && sizes[2] === 4) return false;
  if (sizes.some((n) => n < 2)) return false;
  if (parens[0]) return true;
  return seps.every((c) => c !== 0 && c === seps[0]);
}

// ---------------------------------------------------------------------------------------------
// IPv4 (valid octets, no leading zeros) except 0.x.x.x, loopback 127/8, 255.x (masks, broadcast)
// and version-like strings (`version 1.2.3.4`, `1.2.3.4-beta`).

const IPV4 = /([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})/y;
const VERSION_CUE = /\b(?:v|version|ver|release|build|rev|revision|patch|firmware)\.?[ :=]*$/i;

function octet(s: string): number {
  if (s.length > 1 && s.charCodeAt(0) === 48) return -1;
  const n = Number(s);
  return n <= 255 ? n : -1;
}

function ipv4At(t: string, s: number): number | undefined {
  IPV4.lastIndex = s;
  const m = IPV4.exec(t);
  if (!m) return undefined;
  const e = s + m[0].length;
  const next = t.charCodeAt(e);
  if (isAlnum(next) || next === 95 || ((next === 46 || next === 45 || next === 43) && isAlnum(t.charCodeAt(e + 1)))) return undefined;
  const a = octet(m[1] as string);
  const b = octet(m[2] as string);
  const c = octet(m[3] as string);
  const d = octet(m[4] as string);
  if (a <= 0 || b < 0 || c < 0 || d < 0 || a === 127 || a === 255) return undefined;
  if (VERSION_CUE.test(t.slice(Math.max(0, s - 24), s))) return undefined;
  return e;
}

// ---------------------------------------------------------------------------------------------
// IBANs: country code, check digits, BBAN; contiguous or in groups of four; the country's length
// (or 15–34 for a country not in the table) and ISO 7064 mod-97.

function ibanAt(t: string, p: number): number | undefined {
  const country = t.slice(p, p + 2).toUpperCase();
  const want = IBAN_LENGTH[country];
  let compact = '';
  let i = p;
  let spaced = false;
  const max = want ?? 34;
  while (compact.length < max) {
    const c = t.charCodeAt(i);
    if (isAlnum(c)) {
      compact += t[i];
      i++;
    } else if (c === 32 && compact.length % 4 === 0 && compact.length > 0 && isAlnum(t.charCodeAt(i + 1)) && (spaced || compact.length === 4)) {
      spaced = true;
      i++;
    } else break;
  }
  if (want !== undefined ? compact.length !== want : compact.length < 15) return undefined;
  if (isAlnum(t.charCodeAt(i))) return undefined;
  if (!/^[A-Z]{2}[0-9]{2}$/i.test(compact.slice(0, 4))) return undefined;
  return ibanChecksumOk(compact.toUpperCase()) ? i : undefined;
}

// ---------------------------------------------------------------------------------------------
// E-mail addresses: local part (A-Z a-z 0-9 . _ % + -, up to 64) @ domain with a dot and a
// letter TLD; image and source file names (`icon@2x.png`) are not addresses.

const FILE_TLD = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'bmp', 'css', 'scss', 'js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'json', 'map', 'lock', 'txt', 'yml', 'yaml', 'xml', 'html', 'pdf']);

function isDomainChar(c: number): boolean {
  return (cc(c) & ALNUM) !== 0 || c === 45 || c === 46;
}

export function emails(t: string, push: PiiSink): void {
  let from = 0;
  for (let at = t.indexOf('@'); at !== -1; at = t.indexOf('@', from)) {
    from = at + 1;
    let ls = at;
    while (ls > 0 && at - ls < 64 && cc(t.charCodeAt(ls - 1)) & LOCAL) ls--;
    while (ls < at && t.charCodeAt(ls) === 46) ls++;
    if (ls === at) continue;
    let i = at + 1;
    while (i < t.length && i - at <= 190 && isDomainChar(t.charCodeAt(i))) i++;
    while (i > at + 1 && (t.charCodeAt(i - 1) === 46 || t.charCodeAt(i - 1) === 45)) i--;
    const domain = t.slice(at + 1, i);
    const dot = domain.lastIndexOf('.');
    if (dot <= 0) continue;
    const tld = domain.slice(dot + 1);
    if (!/^(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{2,59})$/.test(tld) || FILE_TLD.has(tld.toLowerCase())) continue;
    let ok = true;
    for (const label of domain.split('.')) {
      if (label.length === 0 || label.length > 63 || label.charCodeAt(0) === 45 || label.charCodeAt(label.length - 1) === 45) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    push(ls, i, 'pii.email', 'email');
    from = i;
  }
}

// ---------------------------------------------------------------------------------------------
// IPv6: full and compressed forms (with an optional IPv4 tail), at least one digit, except the
// unspecified (::) and loopback (::1) addresses.

function isV6Char(c: number): boolean {
  return (cc(c) & HEX) !== 0 || c === 58;
}

export function ipv6s(t: string, push: PiiSink): void {
  let from = 0;
  for (let c = t.indexOf(':'); c !== -1; c = t.indexOf(':', from)) {
    from = c + 1;
    const before = t.charCodeAt(c - 1);
    const after = t.charCodeAt(c + 1);
    if (!(isV6Char(before) || isV6Char(after)) || !(cc(after) & HEX || after === 58)) continue;
    let s = c;
    while (s > 0 && c - s < 40 && isV6Char(t.charCodeAt(s - 1))) s--;
    const b = t.charCodeAt(s - 1);
    let e = c + 1;
    while (e < t.length && e - s < 46 && (isV6Char(t.charCodeAt(e)) || t.charCodeAt(e) === 46)) e++;
    from = Math.max(from, e);
    if (isAlnum(b) || b === 95 || b === 46) continue;
    while (e > s && t.charCodeAt(e - 1) === 46) e--;
    if (t.charCodeAt(e - 1) === 58 && t.charCodeAt(e - 2) !== 58) e--;
    const n = t.charCodeAt(e);
    if (isAlnum(n) || n === 95) continue;
    if (ipv6Valid(t.slice(s, e))) push(s, e, 'pii.ip', 'ip_address');
  }
}

function isIpv4Text(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((o) => /^[0-9]{1,3}$/.test(o) && octet(o) >= 0);
}

function ipv6Valid(a: string): boolean {
  if (!/[0-9]/.test(a)) return false;
  let body = a;
  let v4 = '';
  if (a.indexOf('.') !== -1) {
    const lc = a.lastIndexOf(':');
    v4 = a.slice(lc + 1);
    if (!isIpv4Text(v4)) return false;
    body = `${a.slice(0, lc + 1)}0:0`; // the IPv4 tail counts as two groups
  }
  const dbl = body.indexOf('::');
  if (dbl !== -1 && body.indexOf('::', dbl + 1) !== -1) return false;
  const halves = dbl === -1 ? [body] : [body.slice(0, dbl), body.slice(dbl + 2)];
  const values: number[] = [];
  for (const h of halves) {
    if (h === '') continue;
    for (const g of h.split(':')) {
      if (g.length < 1 || g.length > 4) return false;
      values.push(parseInt(g, 16));
    }
  }
  if (dbl === -1 ? values.length !== 8 : values.length > 7) return false;
  // Compressed addresses need two groups with content ("fe80::1"), so "a::b" in prose is not one.
  if (dbl !== -1 && values.length < 2) return false;
  if (v4.startsWith('127.')) return false;
  // Unspecified and loopback, in any spelling.
  const lastV = values[values.length - 1] as number;
  const restZero = values.slice(0, -1).every((v) => v === 0);
  return !(restZero && (lastV === 0 || lastV === 1) && (dbl !== -1 || values.length === 8));
}
