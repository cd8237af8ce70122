/**
 * Character classes shared by the recognizers, and the "clean view" of a text: the text with the
 * invisible characters an evasion puts between the characters of a secret removed, plus a map
 * from every view offset back to the original offset (SECURITY-RULES G-8.2 SHOULD).
 */

export const DIGIT = 1;
export const UPPER = 2;
export const LOWER = 4;
export const HEX = 8;
/** base64 / base64url alphabet: A-Z a-z 0-9 + / _ - */
export const B64 = 16;
/** Characters that can continue a secret-like run (see `isTokenChar`). */
export const TOKEN = 32;
/** E-mail local part: A-Z a-z 0-9 . _ % + - */
export const LOCAL = 64;
/** Identifier-ish name before `:` / `=`: A-Z a-z 0-9 _ . - */
export const IDENT = 128;
/** Characters of a generic secret value after `password:` and the like. */
export const VALUE = 256;
export const ALNUM = DIGIT | UPPER | LOWER;

const TABLE = new Uint16Array(128);
for (let c = 48; c <= 57; c++) TABLE[c] = DIGIT | HEX | B64 | TOKEN | LOCAL | IDENT | VALUE;
for (let c = 65; c <= 90; c++) TABLE[c] = UPPER | B64 | TOKEN | LOCAL | IDENT | VALUE | (c <= 70 ? HEX : 0);
for (let c = 97; c <= 122; c++) TABLE[c] = LOWER | B64 | TOKEN | LOCAL | IDENT | VALUE | (c <= 102 ? HEX : 0);
const add = (chars: string, flags: number): void => {
  for (const ch of chars) TABLE[ch.charCodeAt(0)] = (TABLE[ch.charCodeAt(0)] as number) | flags;
};
add('+/_-', B64);
add('_-+/=.@%~!#$*^', TOKEN);
add('._%+-', LOCAL);
add('_.-', IDENT);
add('_-+/=.~@%!#$*^', VALUE);

/** The class bits of an ASCII code unit (0 for anything else). */
export function cc(code: number): number {
  return code < 128 ? (TABLE[code] as number) : 0;
}

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export function isAlnum(code: number): boolean {
  return code < 128 && ((TABLE[code] as number) & ALNUM) !== 0;
}

/**
 * Invisible characters (one UTF-16 code unit): soft hyphen, combining grapheme joiner, Arabic
 * letter mark, Hangul fillers, Khmer inherent vowels, Mongolian selectors, zero-width space /
 * non-joiner / joiner, LRM/RLM, bidi embeddings and isolates, word joiner and invisible operators,
 * variation selectors, BOM / zero-width no-break space.
 */
export function isInvisible(c: number): boolean {
  if (c < 0xad) return false;
  return (
    c === 0xad || c === 0x34f || c === 0x61c || c === 0x115f || c === 0x1160 || c === 0x17b4 || c === 0x17b5 ||
    (c >= 0x180b && c <= 0x180f) || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2060 && c <= 0x206f) || c === 0x3164 || (c >= 0xfe00 && c <= 0xfe0f) || c === 0xfeff || c === 0xffa0
  );
}

/**
 * Characters that can continue a secret-like run: ASCII letters and digits, `_ - + / = . @ % ~ ! #
 * $ * ^`, and the invisible characters an evasion puts inside a secret. A stream redactor holds back
 * a trailing run of these. (Unicode tag characters, U+E0000–U+E007F, are surrogate pairs and are
 * not token characters, so a run is never cut inside a pair; `find()` still ignores them.)
 */
export function isTokenChar(code: number): boolean {
  return code < 128 ? ((TABLE[code] as number) & TOKEN) !== 0 : isInvisible(code);
}

// Fast test for "is there anything to remove at all".
const ANY_INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uDB40]/;

/** A text with invisible characters removed; `map[i]` is the original offset of view character `i`. */
export interface View {
  readonly text: string;
  /** Undefined when nothing was removed (the view is the text). */
  readonly map: Int32Array | undefined;
}

/** The clean view of `text`: linear, and free when the text has no invisible character. */
export function viewOf(text: string): View {
  const first = text.search(ANY_INVISIBLE);
  if (first === -1) return { text, map: undefined };
  const n = text.length;
  const map = new Int32Array(n + 1);
  const parts: string[] = [];
  let kept = 0;
  let seg = 0;
  for (let i = first; i < n; i++) {
    const c = text.charCodeAt(i);
    let width = 0;
    if (isInvisible(c)) width = 1;
    else if (c === 0xdb40 && i + 1 < n) {
      // Unicode tag characters U+E0000–U+E007F (and U+E0100–U+E01EF variation selectors).
      const lo = text.charCodeAt(i + 1);
      if ((lo >= 0xdc00 && lo <= 0xdc7f) || (lo >= 0xdd00 && lo <= 0xddef)) width = 2;
    }
    if (width === 0) continue;
    if (i > seg) parts.push(text.slice(seg, i));
    for (let o = seg; o < i; o++) map[kept++] = o;
    seg = i + width;
    i += width - 1;
  }
  if (seg < n) parts.push(text.slice(seg));
  for (let o = seg; o < n; o++) map[kept++] = o;
  map[kept] = n;
  return { text: parts.join(''), map: map.subarray(0, kept + 1) };
}

/** Original offsets of the view span [start, end). */
export function toOriginal(view: View, start: number, end: number): [number, number] {
  const map = view.map;
  if (!map) return [start, end];
  return [map[start] as number, end > start ? (map[end - 1] as number) + 1 : (map[start] as number)];
}
