/**
 * Where an open-ended secret or a number that can still grow starts at the end of a streamed
 * text: the pieces of `openPrefix` (index.ts) that read the text itself rather than the
 * recognizer table.
 */
import { ALNUM, cc, isAlnum, isDigit } from './text.js';

/** Whether the last `-----BEGIN` at `b` starts a private-key block that has not ended yet. */
export function pemOpen(t: string, b: number): boolean {
  const close = t.indexOf('-----', b + 10);
  if (close === -1) {
    // The BEGIN line is still being written: it may become a private key.
    const rest = t.slice(b + 10);
    return rest.length <= 80 && /^[ A-Z0-9-]*$/.test(rest);
  }
  const label = t.slice(b + 10, close).trim();
  if (!(label.endsWith('PRIVATE KEY') || label.endsWith('PRIVATE KEY BLOCK'))) return false;
  const e = t.indexOf('-----END', close + 5);
  if (e === -1) return true;
  return t.indexOf('-----', e + 8) === -1;
}

function isNumSep(c: number): boolean {
  return c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 47;
}

function isLetter(c: number): boolean {
  return (cc(c) & ALNUM) !== 0 && !isDigit(c);
}

/** Start of a number at the end of `t` (digit groups with one or two separators between), or of an IBAN. */
export function openNumber(t: string, iban: boolean): number | undefined {
  const n = t.length;
  let best: number | undefined;
  let i = n;
  for (let k = 0; k < 2 && i > 0 && isNumSep(t.charCodeAt(i - 1)); k++) i--;
  if (i > 0 && isDigit(t.charCodeAt(i - 1))) {
    let s = i - 1;
    let j = s;
    while (j > 0 && n - j < 48) {
      const c = t.charCodeAt(j - 1);
      if (isDigit(c)) {
        j--;
        s = j;
        continue;
      }
      if (!isNumSep(c)) break;
      let q = j - 1;
      if (q > 0 && isNumSep(t.charCodeAt(q - 1))) q--;
      if (q > 0 && isDigit(t.charCodeAt(q - 1))) {
        j = q;
        continue;
      }
      break;
    }
    if (t.charCodeAt(s - 1) === 40) s--;
    if (t.charCodeAt(s - 1) === 43) s--;
    // Digits that end a word (`Word0`, `v2`, `abc_12`) never start a card, phone number or SSN
    // (the recognizers want a boundary before a number), but a number may follow them in the
    // same run (`v2 4111 1111`): hold from the first group after a separator, if there is one.
    const before = t.charCodeAt(s - 1);
    if (s > 0 && (isAlnum(before) || before === 95)) {
      let g = s;
      while (g < n && isDigit(t.charCodeAt(g))) g++;
      while (g < n && !isDigit(t.charCodeAt(g))) g++;
      if (g < n) best = g;
    } else best = s;
  }
  if (iban) {
    // An IBAN in groups: two letters, two digits, then letters, digits and single spaces to the end.
    let s = n;
    let digits = 0;
    while (s > 0 && n - s < 44 && ((cc(t.charCodeAt(s - 1)) & ALNUM) !== 0 || (t.charCodeAt(s - 1) === 32 && t.charCodeAt(s - 2) !== 32))) {
      if (isDigit(t.charCodeAt(s - 1))) digits++;
      s--;
    }
    // Its check digits come third and fourth: prose without two digits at the end is no IBAN (every stream event asks this).
    for (let p = s; digits >= 2 && p + 4 <= n && (best === undefined || p < best); p++) {
      if ((p === 0 || !isAlnum(t.charCodeAt(p - 1))) && isLetter(t.charCodeAt(p)) && isLetter(t.charCodeAt(p + 1)) && isDigit(t.charCodeAt(p + 2)) && isDigit(t.charCodeAt(p + 3))) {
        best = p;
        break;
      }
    }
  }
  return best;
}
