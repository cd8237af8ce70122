import { hasCyrillicOrGreek, mostlyLatin, normalizeCleaned, preDecode, scriptCounts, unicodeClean, type ScriptCounts } from './detector/normalize.js';
import type { Detection, PreparedInput, PromptGuard } from './detector/prompt-guard.js';
import type { ScreenedText } from './texts.js';

/**
 * The two normalization passes every screened text goes through once per request, as an object
 * so the count can be observed (test/screen-cost.test.ts): `clean` resolves escapes, tag
 * characters, compatibility forms (NFKC: this is the pass that expands) and invisible
 * characters; `fold` is the detector's case, confusable, leetspeak and whitespace folding.
 */
export const normalizer = {
  clean(raw: string): string {
    return unicodeClean(preDecode(raw));
  },
  fold(clean: string, mostlyLatinOfWhole?: boolean): string {
    return normalizeCleaned(clean, mostlyLatinOfWhole === undefined ? { keepLines: true } : { keepLines: true, mostlyLatin: mostlyLatinOfWhole });
  },
};

/** A screened text with its normalized forms, computed once and shared by every check. */
export interface PreparedText extends ScreenedText, PreparedInput {
  /** Latin and Cyrillic/Greek counts of `clean`, when it has Cyrillic or Greek (else undefined). */
  readonly scripts: ScriptCounts | undefined;
}

// NFKD expands a code point to at most 18 characters (U+FDFA, UAX #15), so a BMP length fits a
// byte: a table filled on first sight of each code unit (0: not yet known). Astral code points
// are rare and computed each time.
const MAY_EXPAND = /[^\x00-\x7f]|\\u/;
const BMP_NFKD_LENGTH = new Uint8Array(0x10000);

function decomposedLength(cp: number): number {
  if (cp > 0xffff) return String.fromCodePoint(cp).normalize('NFKD').length;
  let n = BMP_NFKD_LENGTH[cp] as number;
  if (n === 0) BMP_NFKD_LENGTH[cp] = n = String.fromCharCode(cp).normalize('NFKD').length;
  return n;
}

/**
 * An upper bound of `normalizer.clean(raw).length` (NFC and mark stripping only shrink the
 * decomposition), or `limit + 1` as soon as it is known to exceed `limit`: one pass, no copy, so
 * text that would expand past the budget is refused before it is expanded.
 */
export function cleanLengthBound(raw: string, limit: number): number {
  if (!MAY_EXPAND.test(raw)) return raw.length; // ASCII without escapes is what it is
  const decoded = preDecode(raw);
  let n = 0;
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if (c < 0x80) n++;
    else if (c < 0xd800 || c > 0xdbff) n += decomposedLength(c);
    else {
      const cp = decoded.codePointAt(i) as number;
      if (cp > 0xffff) i++;
      n += decomposedLength(cp);
    }
    if (n > limit) return limit + 1;
  }
  return n;
}

export type PrepareResult = { ok: true; texts: PreparedText[] } | { ok: false; normalizedChars: number; budget: number };

/**
 * Characters of slack over the request's own size, so a short message with a few expanding
 * characters (a ligature, U+FDFA written after a name) is never refused: a fixed, small cost.
 */
export const NORMALIZED_SLACK = 32 * 1024;

/**
 * Normalizes each text once. The budget is the request's own size: the UTF-8 bytes of the texts
 * (token ids: what they may stand for, see token-ids.ts) plus a fixed slack, so the screen never
 * works on much more than a body of plain prose of the same size would give it. Past it the
 * request is refused (413).
 */
export function prepareTexts(texts: readonly ScreenedText[]): PrepareResult {
  let budget = NORMALIZED_SLACK;
  for (const t of texts) budget += t.budgetBytes ?? Buffer.byteLength(t.text, 'utf8');
  let used = 0;
  for (const t of texts) {
    used += cleanLengthBound(t.text, Math.max(0, 2 * budget - used));
    // Twice the budget before expanding anything: the bound counts marks NFC and stripping remove.
    if (used > 2 * budget) return { ok: false, normalizedChars: used, budget };
  }
  const out: PreparedText[] = [];
  used = 0;
  for (const t of texts) {
    const clean = normalizer.clean(t.text);
    used += clean.length;
    if (used > budget) return { ok: false, normalizedChars: used, budget };
    out.push({ ...t, raw: t.text, clean, lines: normalizer.fold(clean), scripts: hasCyrillicOrGreek(clean) ? scriptCounts(clean) : undefined });
  }
  return { ok: true, texts: out };
}

/**
 * All texts as one (a payload split across messages), from the pieces already normalized: equal
 * to normalizing the joined text, without normalizing any piece again (a piece is folded a second
 * time only when its own Cyrillic/Greek decision differs from the whole's).
 */
export function joinPrepared(pieces: readonly PreparedText[], sep = '\n'): PreparedInput {
  const raw = pieces.map((p) => p.raw).join(sep);
  const clean = pieces.map((p) => p.clean).join(sep);
  let whole: boolean | undefined;
  if (pieces.some((p) => p.scripts !== undefined)) {
    const sum: ScriptCounts = { latin: 0, foreign: 0 };
    for (const p of pieces) {
      const c = p.scripts ?? { latin: scriptCounts(p.clean).latin, foreign: 0 };
      sum.latin += c.latin;
      sum.foreign += c.foreign;
    }
    whole = sum.latin > 0 ? mostlyLatin(sum) : undefined;
  }
  const lines: string[] = [];
  for (const p of pieces) {
    let l = p.lines;
    if (whole !== undefined && p.scripts !== undefined && (p.scripts.latin === 0 || mostlyLatin(p.scripts) !== whole)) l = normalizer.fold(p.clean, whole);
    if (l.length > 0) lines.push(l);
  }
  return { raw, clean, lines: lines.join('\n') };
}

/** A request's prepared texts, with the whole (all texts joined) built and scored at most once. */
export interface TextSet {
  readonly texts: readonly PreparedText[];
  /** All texts as one: the single text itself, or the join. */
  whole(): PreparedInput;
  /** `guard.scorePrepared(whole())`, memoized: the injection screen and the poisoning guard share it. */
  wholeScore(guard: Pick<PromptGuard, 'scorePrepared'>): Detection;
}

export function textSet(texts: readonly PreparedText[], sep = '\n'): TextSet {
  let whole: PreparedInput | undefined;
  let score: Detection | undefined;
  const set: TextSet = {
    texts,
    whole: () => (whole ??= texts.length === 1 ? (texts[0] as PreparedText) : joinPrepared(texts, sep)),
    wholeScore: (guard) => (score ??= guard.scorePrepared(set.whole())),
  };
  return set;
}
