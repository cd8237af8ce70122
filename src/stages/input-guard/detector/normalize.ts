/**
 * Text normalization for prompt-injection screening (SECURITY-RULES G-7.2).
 *
 * `normalizeText` produces the canonical form that rules and features see:
 * JSON `\uXXXX` escapes decoded, Unicode tag characters decoded to ASCII, NFKC (via NFKD + mark
 * stripping + NFC), invisible / format characters removed, Cyrillic and Greek look-alikes folded to
 * Latin only inside words that are mixed-script (or in mostly-Latin text), case folded, letters
 * spaced out one by one re-joined, leetspeak folded inside tokens that mix letters and digits,
 * whitespace collapsed.
 *
 * `decodedVariants` returns bounded decoded views of the text (base64, hex, ROT13, reversed, Morse) that
 * are screened as well.
 */
import { decodeMorse } from './morse.js';
import { stripMarksAndInvisible } from './strip.js';

export { stripMarksAndInvisible };

const TAG_CHARS = /[\u{E0000}-\u{E007F}]/gu;
const HAS_TAG = /[\u{E0000}-\u{E007F}]/u;
const JSON_ESCAPE = /\\u([0-9a-fA-F]{4})/g;
const NON_ASCII = /[^\x00-\x7F]/;
const CYR_GREEK = /[\u0370-\u03FF\u0400-\u052F]/;

/** Cyrillic and Greek characters that look like Latin letters (both cases). */
const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic upper
  А: 'A', В: 'B', Е: 'E', Ё: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', Х: 'X',
  У: 'Y', Ѕ: 'S', І: 'I', Ї: 'I', Ј: 'J', Ԛ: 'Q', Ԝ: 'W', Һ: 'H',
  // Cyrillic lower
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', х: 'x',
  у: 'y', ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ь: 'b', г: 'r', п: 'n',
  // Greek upper
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T',
  Υ: 'Y', Χ: 'X',
  // Greek lower
  α: 'a', β: 'b', γ: 'y', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u',
  χ: 'x', ω: 'w', ς: 's',
};

const LETTER_WORD = /[\p{L}\p{N}]+/gu;
const LATIN_LETTER = /[a-zA-Z\u00C0-\u024F]/;

/** Whether a text has Cyrillic or Greek characters (else confusable folding leaves it alone). */
export function hasCyrillicOrGreek(s: string): boolean {
  return CYR_GREEK.test(s);
}

/** Latin letters and Cyrillic/Greek characters of a text: what the confusable folding decides on. */
export interface ScriptCounts {
  latin: number;
  foreign: number;
}

export function scriptCounts(s: string): ScriptCounts {
  let foreign = 0;
  let latin = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) latin++;
    else if (c >= 0x370 && c <= 0x52f) foreign++;
  }
  return { latin, foreign };
}

/**
 * `mostlyLatin` given: the decision of a larger text this one is a piece of (a message of a
 * conversation), so pieces folded one by one and joined with line breaks equal the whole folded.
 */
function foldConfusables(s: string, mostlyLatinOf?: boolean): string {
  if (!CYR_GREEK.test(s)) return s;
  let mostlyLatin: boolean;
  if (mostlyLatinOf !== undefined) mostlyLatin = mostlyLatinOf;
  else {
    const { latin, foreign } = scriptCounts(s);
    if (latin === 0) return s; // no Latin letters at all: nothing to fold into
    mostlyLatin = latin > 2 * foreign;
  }
  return s.replace(LETTER_WORD, (word) => {
    if (!CYR_GREEK.test(word)) return word;
    const mixed = LATIN_LETTER.test(word);
    if (!mixed) {
      if (!mostlyLatin) return word;
      // In mostly-Latin text, fold an all-foreign word only when every letter has a Latin twin.
      for (const ch of word) if (CONFUSABLES[ch] === undefined && !/\p{N}/u.test(ch)) return word;
    }
    let out = '';
    for (const ch of word) out += CONFUSABLES[ch] ?? ch;
    return out;
  });
}

/** The folding decision of a text from its counts (`scriptCounts`, summed over pieces). */
export function mostlyLatin(c: ScriptCounts): boolean {
  return c.latin > 2 * c.foreign;
}

const LEET: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };
const HAS_LEET = /[013457@$]/;
const VERSIONISH = /^(?:[a-z]{1,4}\d+|\d+[a-z]{1,3})$/; // mp3, ipv4, gpt4, sha256, 4k, 1st, 100km

/** Same as `s.replace(LEET_TOKEN, fold)`: maximal runs of [a-z0-9@$] holding a letter and a leet character. */
function foldLeet(s: string): string {
  if (!HAS_LEET.test(s)) return s;
  let out: string | undefined;
  let from = 0;
  const n = s.length;
  let i = 0;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (!isLeetTokenChar(c)) {
      i++;
      continue;
    }
    const start = i;
    let letter = false;
    let leet = false;
    while (i < n && isLeetTokenChar((c = s.charCodeAt(i)))) {
      if (c >= 97 && c <= 122) letter = true;
      else if (c === 48 || c === 49 || c === 51 || c === 52 || c === 53 || c === 55 || c === 64 || c === 36) leet = true;
      i++;
    }
    if (!letter || !leet) continue;
    const tok = s.slice(start, i);
    if (VERSIONISH.test(tok)) continue;
    let folded = '';
    for (const ch of tok) folded += LEET[ch] ?? ch;
    out = (out ?? '') + s.slice(from, start) + folded;
    from = i;
  }
  return out === undefined ? s : out + s.slice(from);
}

function isLeetTokenChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 64 || c === 36;
}

// "i g n o r e" / "i.g.n.o.r.e" / "i-g-n-o-r-e": four or more single letters, one separator each.
const SPACED_LETTERS = /(?<![a-z0-9])(?:[a-z][ .\-_*+|/]){3,}[a-z](?![a-z0-9])/g;
const SPACED_SEP = /[ .\-_*+|/]/g;

function decodeTags(s: string): string {
  if (!HAS_TAG.test(s)) return s;
  return s.replace(TAG_CHARS, (ch) => {
    const cp = ch.codePointAt(0) ?? 0;
    return cp >= 0xe0020 && cp <= 0xe007e ? String.fromCharCode(cp - 0xe0000) : '';
  });
}

/** Decoding steps that must happen before anything else; shared with `decodedVariants`. */
export function preDecode(s: string): string {
  let t = s;
  if (t.includes('\\u')) t = t.replace(JSON_ESCAPE, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return decodeTags(t);
}

/**
 * Work done by the two normalization passes since the process started: calls and characters
 * read. The input guard normalizes each text once per request; tests hold it to that by these.
 */
export const normalizeWork = { cleanCalls: 0, cleanChars: 0, foldCalls: 0, foldChars: 0 };

/** Unicode canonicalisation without case folding (keeps base64 intact). */
export function unicodeClean(s: string): string {
  normalizeWork.cleanCalls++;
  normalizeWork.cleanChars += s.length;
  if (!NON_ASCII.test(s)) return s;
  return stripMarksAndInvisible(s.normalize('NFKD')).normalize('NFC');
}

const HSPACE_RUN = /[^\S\n]{2,}|[^\S\n ]/g; // = /[^\S\n]+/g when replaced by ' '
const SPACE_RUN = /\s{2,}|[^\S ]/g; // = /\s+/g when replaced by ' '

export interface NormalizeOptions {
  /** Keep line breaks (collapsed to one `\n`); horizontal whitespace is still collapsed. */
  keepLines?: boolean;
  /** The Cyrillic/Greek folding decision of the whole this text is a piece of (see `foldConfusables`). */
  mostlyLatin?: boolean;
}

export function normalizeText(s: string, opts: NormalizeOptions = {}): string {
  return normalizeCleaned(unicodeClean(preDecode(s)), opts);
}

/** `normalizeText` for input that already went through `unicodeClean(preDecode(…))`. */
export function normalizeCleaned(cleaned: string, opts: NormalizeOptions = {}): string {
  normalizeWork.foldCalls++;
  normalizeWork.foldChars += cleaned.length;
  let t = cleaned;
  t = foldConfusables(t, opts.mostlyLatin);
  t = t.toLowerCase();
  if (t.length >= 7) t = t.replace(SPACED_LETTERS, (m) => m.replace(SPACED_SEP, ''));
  t = foldLeet(t);
  // Whitespace runs collapse to one space; only runs that are not already a single ' ' are touched.
  if (opts.keepLines) {
    t = t.replace(HSPACE_RUN, ' ');
    if (t.includes('\n')) t = t.replace(/ ?\n[\s]*/g, '\n');
  } else {
    t = t.replace(SPACE_RUN, ' ');
  }
  return t.trim();
}

// ---------------------------------------------------------------------------------------------
// Decoded variants

export type VariantKind = 'base64' | 'hex' | 'rot13' | 'reversed' | 'morse';
export interface DecodedVariant {
  via: VariantKind;
  text: string;
}

const MAX_VARIANTS = 8;
const MAX_SEGMENT = 64 * 1024;
const BASE64_SEG = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}/g;
const BARE_BASE64 = /^[A-Za-z0-9+/_=\s-]+$/;
// Printable ASCII bytes are 0x20-0x7e, so every hex pair starts with 2-7: prose rarely matches.
const HEX_RUN = /(?<![0-9a-fA-F])(?:[2-7][0-9a-fA-F]){8,}(?![0-9a-fA-F])/g;
const HEX_SPACED = /(?:(?:\\x|0x)?[2-7][0-9a-fA-F][ :,]?){8,}/g;
const BIDI_RTL_OVERRIDE = /[\u202E\u2067\u202B]([^\u202C\u2069\n]*)/g;

/** Share of printable characters; rejects binary garbage from accidental base64/hex matches. */
function printableText(buf: Buffer): string | undefined {
  if (buf.length < 8) return undefined;
  const s = buf.toString('utf8');
  let good = 0;
  let letters = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0xfffd) continue;
    if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09 || c >= 0xa0) good++;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c >= 0xc0) letters++;
  }
  if (good / s.length < 0.9 || letters / s.length < 0.5) return undefined;
  return s;
}

/** Whether `s` has 16+ consecutive base64 alphabet characters (else BASE64_SEG cannot match). */
function hasRun16(s: string): boolean {
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 47 && c <= 57) || c === 43 || c === 95 || c === 45) {
      if (++run >= 16) return true;
    } else run = 0;
  }
  return false;
}

function rot13(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) out += String.fromCharCode(((c - 97 + 13) % 26) + 97);
    else if (c >= 65 && c <= 90) out += String.fromCharCode(((c - 65 + 13) % 26) + 65);
    else out += s[i];
  }
  return out;
}

const COMMON = new Set(
  ('the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an ' +
    'will my one all would there their what so up out if about who get which go me when make can like no just him know take ' +
    'into your some could them see other than then now only its over also after use two how our first well way even new want ' +
    'because any these give most us is are was were been has had did does said ignore previous instructions prompt system ' +
    'rules tell reveal print show repeat above before forget disregard everything now must should please write answer')
    .split(' '),
);

/** Fraction of (up to 200) words that are common English words: a cheap "looks like English" test. */
export function englishness(s: string): number {
  return englishnessOf(s.toLowerCase().match(/[a-z']+/g) ?? [], COMMON, false);
}

// ROT13 and reversal map words to words (letters stay letters, `'` stays): the ROT13 of a text is
// as English as the text's words are ROT13s of common words, and its reversal as its last words
// are reversals of them. One split of the text answers all three questions, with no decoded copy
// built unless it is needed (this runs for every text screened).
const ROT13_COMMON = new Set([...COMMON].map((w) => rot13(w)));
const REVERSED_COMMON = new Set([...COMMON].map((w) => [...w].reverse().join('')));

function englishnessOf(words: readonly string[], set: ReadonlySet<string>, fromEnd: boolean): number {
  if (words.length === 0) return 0;
  const n = Math.min(words.length, 200);
  const start = fromEnd ? words.length - n : 0;
  let hit = 0;
  for (let i = start; i < start + n; i++) if (set.has(words[i] as string)) hit++;
  return hit / n;
}

function reverseString(s: string): string {
  let out = '';
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    // keep surrogate pairs in order
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const hi = s.charCodeAt(i - 1);
      if (hi >= 0xd800 && hi <= 0xdbff) {
        out += s[i - 1] + (s[i] as string);
        i--;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

/**
 * Decoded views of `s`, bounded: at most 8 variants, each at most 64 KB.
 * `s` may be raw text (base64 and hex are case-sensitive, so they are searched before folding).
 */
export function decodedVariants(s: string, cleaned?: string): DecodedVariant[] {
  const out: DecodedVariant[] = [];
  const seen = new Set<string>();
  const push = (via: VariantKind, text: string): void => {
    if (out.length >= MAX_VARIANTS) return;
    const t = text.length > MAX_SEGMENT ? text.slice(0, MAX_SEGMENT) : text;
    const key = via + t.slice(0, 200);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ via, text: t });
  };
  const raw = cleaned ?? unicodeClean(preDecode(s));

  // bidi-reversed segments (display order differs from logical order)
  if (/[\u202E\u2067\u202B]/.test(s)) {
    for (const m of s.matchAll(BIDI_RTL_OVERRIDE)) {
      const seg = m[1] ?? '';
      if (seg.length >= 8) push('reversed', reverseString(seg));
    }
  }

  // bare base64 blob (may be wrapped over lines)
  const trimmed = raw.trim();
  if (trimmed.length >= 16 && trimmed.length <= 4 * MAX_SEGMENT && BARE_BASE64.test(trimmed) && /[0-9+/=]/.test(trimmed)) {
    const txt = printableText(Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'));
    if (txt !== undefined) push('base64', txt);
  }
  // base64 segments
  let n = 0;
  if (hasRun16(raw)) for (const m of raw.matchAll(BASE64_SEG)) {
    if (++n > 32 || out.length >= MAX_VARIANTS) break;
    const seg = m[0];
    // plain words / identifiers are not base64: need a digit, '+', '/', or mixed case inside
    if (!/[0-9+/=]/.test(seg) && !/[a-z][A-Z]|[A-Z]{2}[a-z]/.test(seg)) continue;
    const txt = printableText(Buffer.from(seg.slice(0, 4 * MAX_SEGMENT), 'base64'));
    if (txt !== undefined) push('base64', txt);
  }
  // hex runs: "69676e6f7265..." or "69 67 6e ..." or "\x69\x67..."
  n = 0;
  for (const re of [HEX_RUN, HEX_SPACED]) {
    for (const m of raw.matchAll(re)) {
      if (++n > 16 || out.length >= MAX_VARIANTS) break;
      const digits = m[0].replace(/\\x|0x|[ :,]/g, '');
      if (digits.length < 16 || !/[a-fA-F]/.test(digits) && digits.length < 24) continue;
      const txt = printableText(Buffer.from(digits.slice(0, 2 * MAX_SEGMENT), 'hex'));
      if (txt !== undefined) push('hex', txt);
    }
  }

  // Morse code runs (dots and dashes), when what they spell reads like English.
  const morse = decodeMorse(raw);
  if (morse !== undefined && englishness(morse) >= 0.2) push('morse', morse);

  // ROT13 and whole-text reversal: only when the result reads more like English than the input.
  const sample = raw.length > 600 ? raw.slice(0, 600) : raw;
  if (/[a-zA-Z]{3}/.test(sample)) {
    const words = sample.toLowerCase().match(/[a-z']+/g) ?? [];
    const base = englishnessOf(words, COMMON, false);
    const e13 = englishnessOf(words, ROT13_COMMON, false);
    if (e13 >= 0.2 && e13 > base + 0.05) push('rot13', rot13(raw));
    const erev = englishnessOf(words, REVERSED_COMMON, true);
    if (erev >= 0.2 && erev > base + 0.05) push('reversed', reverseString(raw));
  }
  return out;
}
