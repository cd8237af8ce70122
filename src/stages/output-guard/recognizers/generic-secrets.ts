/** Generic secrets after a secret-like name, found from the `:` / `=` separators and `Bearer `. */
import { secretValue } from './checks.js';
import type { Hit } from './secret-types.js';
import { IDENT, VALUE, cc, isAlnum } from './text.js';

/** Secret-like names (matched anywhere in the identifier before `:` / `=`). */
const SECRET_NAME =
  /passw(?:or)?d|passphrase|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|auth[_.-]?key|signing[_.-]?key|session[_.-]?key|encryption[_.-]?key|master[_.-]?key|credential|authorization|(?:^|[_.-])pass(?:$|[_.-])|(?:^|[_.-])pwd$/i;
const SEPARATOR = /[:=]/g;
const BEARER = /bearer[ \t]+/gi;
const SCHEME = /(?:bearer|basic|token|bot)[ \t]+/iy;
/** Longest name looked at before a separator; `GENERIC_VALUE_MAX` is the value length counted in `maxSpan`. */
const NAME_MAX = 40;
const GENERIC_VALUE_MAX = 200;
/** Longest value read after one name (bounds the work per separator). */
const VALUE_SCAN_MAX = 512;
export const GENERIC_MAX_LEN = NAME_MAX + 16 + GENERIC_VALUE_MAX;

function isQuote(c: number): boolean {
  return c === 34 || c === 39 || c === 96;
}

/** The value starting at `v` (after the separator): spaces, a quote and an auth scheme skipped. */
function valueAt(t: string, v: number): Hit | undefined {
  let i = v;
  let k = 0;
  while (k < 4 && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9)) {
    i++;
    k++;
  }
  if (isQuote(t.charCodeAt(i))) i++;
  SCHEME.lastIndex = i;
  if (SCHEME.exec(t)) i = SCHEME.lastIndex;
  const start = i;
  while (i < t.length && i - start < VALUE_SCAN_MAX && cc(t.charCodeAt(i)) & VALUE) i++;
  while (i > start && t.charCodeAt(i - 1) === 46) i--; // a sentence's full stop
  if (i - start < 20 || !secretValue(t.slice(start, i))) return undefined;
  return { start, end: i, label: 'secret' };
}

/**
 * High-entropy values right after a secret-like name with `:` or `=` (and optional quotes and
 * spaces) between — `password=…`, `"client_secret": "…"`, `X-Api-Key: …`,
 * `Authorization: Bearer …` — and after `Bearer `.
 */
export function genericSecrets(t: string, push: (h: Hit) => void): void {
  SEPARATOR.lastIndex = 0;
  while (SEPARATOR.test(t)) {
    const sep = SEPARATOR.lastIndex - 1;
    let j = sep - 1;
    let k = 0;
    while (k < 3 && (t.charCodeAt(j) === 32 || t.charCodeAt(j) === 9)) {
      j--;
      k++;
    }
    if (isQuote(t.charCodeAt(j))) j--;
    const nameEnd = j + 1;
    while (j >= 0 && nameEnd - j <= NAME_MAX && cc(t.charCodeAt(j)) & IDENT) j--;
    if (nameEnd - (j + 1) < 3 || !SECRET_NAME.test(t.slice(j + 1, nameEnd))) continue;
    let v = sep + 1;
    const next = t.charCodeAt(v);
    if (next === 61 || next === 62) v++; // := => ==
    const hit = valueAt(t, v);
    if (hit) {
      push(hit);
      SEPARATOR.lastIndex = hit.end;
    }
  }
  BEARER.lastIndex = 0;
  for (let m = BEARER.exec(t); m; m = BEARER.exec(t)) {
    if (isAlnum(t.charCodeAt(m.index - 1))) continue;
    const hit = valueAt(t, m.index + m[0].length);
    if (hit) {
      push(hit);
      BEARER.lastIndex = hit.end;
    }
  }
}

const OPEN_NAME =
  /passw(?:or)?d|passphrase|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|auth[_.-]?key|signing[_.-]?key|session[_.-]?key|encryption[_.-]?key|master[_.-]?key|credential|authorization|bearer|pass|pwd/gi;
const OPEN_CUE = /bearer|authorization/i;

/**
 * For `openPrefix`: where a secret-like name starts whose value may still be arriving at the end
 * of `t` (`password: `, `"api_key": "sk-pr`, `Authorization: Bearer `), looking from `from` on.
 */
export function openGenericName(t: string, from: number): number | undefined {
  OPEN_NAME.lastIndex = from;
  for (let m = OPEN_NAME.exec(t); m; m = OPEN_NAME.exec(t)) {
    // Walk forward: rest of the name, quote, spaces, separator, spaces, quote, scheme, value chars.
    let i = m.index + m[0].length;
    let k = 0;
    while (i < t.length && k < NAME_MAX && cc(t.charCodeAt(i)) & IDENT) {
      i++;
      k++;
    }
    let cue = OPEN_CUE.test(m[0]);
    if (isQuote(t.charCodeAt(i))) {
      i++;
      cue = true;
    }
    for (k = 0; k < 4 && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9); k++) i++;
    const c = t.charCodeAt(i);
    if (c === 58 || c === 61) {
      i++;
      cue = true;
      const n = t.charCodeAt(i);
      if (n === 61 || n === 62) i++;
    }
    if (!cue) continue;
    for (k = 0; k < 4 && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9); k++) i++;
    if (isQuote(t.charCodeAt(i))) i++;
    SCHEME.lastIndex = i;
    if (SCHEME.exec(t)) i = SCHEME.lastIndex;
    while (i < t.length && cc(t.charCodeAt(i)) & VALUE) i++;
    if (i === t.length) {
      let s = m.index;
      while (s > from && cc(t.charCodeAt(s - 1)) & IDENT) s--;
      return s;
    }
  }
  return undefined;
}
