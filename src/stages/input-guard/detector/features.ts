/**
 * Hashed sparse features for the prompt-injection model.
 *
 * Groups (each scaled so that long texts do not dominate):
 *  - word unigrams + bigrams of the normalized text;
 *  - character 3..5-grams of the normalized text;
 *  - "meta" features: rule hits (strong and weak), cue crosses (harm x framing, …), document
 *    structure signals, adversarial-suffix score, a few text statistics.
 *
 * Duplicates are allowed in the output (scoring is a dot product, so they simply add up);
 * training collapses them with `compactFeatures`.
 */

import type { DocSignals } from './doc-signals.js';
import type { RuleHit } from './rule-def.js';

export interface FeatureConfig {
  /** log2 of the hashed feature space. */
  readonly bits: number;
  readonly charMin: number;
  readonly charMax: number;
  readonly wordScale: number;
  readonly charScale: number;
  readonly metaScale: number;
  /** Texts longer than this are scored in chunks by the model (rules always see everything). */
  readonly chunkChars: number;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  bits: 18,
  charMin: 3,
  charMax: 5,
  wordScale: 1,
  charScale: 0.5,
  metaScale: 2,
  chunkChars: 8192,
};

export interface SparseVec {
  idx: Int32Array;
  val: Float32Array;
  n: number;
}

/** Signals computed outside the text itself (rules, structure, suffix score). */
export interface MetaSignals {
  hits: readonly RuleHit[];
  doc: DocSignals;
  gibberish: number;
  /** Strong hits found only inside decoded variants, by family. */
  variantFamilies: readonly string[];
  /** Raw (case-kept) text statistics. */
  upperRatio: number;
  /** Number of harm-lexicon matches (capped). */
  harmCount: number;
  /** Commands addressed to the model (capped count of IMPERATIVE_RE matches). */
  imperativeCount?: number;
  /** Tail statistics of the case-kept text (see tailStats). */
  tail?: { fn: number; odd: number; sym: number };
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a(s: string, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const SEED_WORD = fnv1a('w1');
const SEED_BIGRAM = fnv1a('w2');
const SEED_CHAR = fnv1a('c');
const SEED_META = fnv1a('m');
const H_YOU = fnv1a('you', SEED_WORD);
const H_YOUR = fnv1a('your', SEED_WORD);
const H_YOURE = fnv1a("you're", SEED_WORD);
const H_YOURSELF = fnv1a('yourself', SEED_WORD);

class Builder {
  idx: Int32Array;
  val: Float32Array;
  n = 0;
  constructor(
    readonly mask: number,
    cap: number,
  ) {
    this.idx = new Int32Array(cap);
    this.val = new Float32Array(cap);
  }
  push(h: number, v: number): void {
    if (this.n === this.idx.length) {
      const ni = new Int32Array(this.n * 2);
      ni.set(this.idx);
      const nv = new Float32Array(this.n * 2);
      nv.set(this.val);
      this.idx = ni;
      this.val = nv;
    }
    this.idx[this.n] = h & this.mask;
    this.val[this.n] = v;
    this.n++;
  }
  scaleFrom(start: number, s: number): void {
    for (let i = start; i < this.n; i++) this.val[i] = (this.val[i] as number) * s;
  }
}

/** a-z, 0-9, and non-ASCII letters (anything >= U+00C0 outside the punctuation / symbol blocks). */
function isWordChar(c: number): boolean {
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
  if (c < 0xc0) return false;
  if (c >= 0x2000 && c <= 0x2bff) return false; // punctuation, symbols, arrows, box drawing
  if (c >= 0x3000 && c <= 0x303f) return false; // CJK punctuation
  if (c >= 0xd800 && c <= 0xdfff) return false; // surrogates (emoji)
  if (c >= 0xfe00 && c <= 0xfe6f) return false;
  return true;
}
// ! ? : < > | # [ ] { } $ * =
function isSymbol(c: number): boolean {
  return c === 33 || c === 63 || c === 58 || c === 60 || c === 62 || c === 124 || c === 35 || c === 91 || c === 93 || c === 123 || c === 125 || c === 36 || c === 42 || c === 61;
}

function bucket(x: number, edges: readonly number[]): number {
  let b = 0;
  while (b < edges.length && x >= (edges[b] as number)) b++;
  return b;
}

const CROSSES2: ReadonlyArray<readonly [string, string]> = [
  ['harm', 'disclaimer'], ['harm', 'evasion'], ['harm', 'detail'], ['roleplay', 'disclaimer'], ['framing', 'detail'],
  ['detail', 'disclaimer'], ['roleplay', 'evasion'], ['detail', 'evasion'], ['game', 'roleplay'], ['self-policy', 'roleplay'],
  ['self-policy', 'ai-context'], ['self-policy', 'imperative'], ['coercion', 'roleplay'], ['dual-response', 'roleplay'],
  ['persona-name', 'roleplay'], ['persona-name', 'imperative'], ['game', 'imperative'], ['priming', 'roleplay'],
  ['disclaimer', 'priming'], ['evasion', 'framing'],
];

/** Feature vector of one (normalized, flat) text chunk plus meta signals. */
export function extractFeatures(flat: string, meta: MetaSignals, cfg: FeatureConfig): SparseVec {
  const mask = (1 << cfg.bits) - 1;
  const b = new Builder(mask, Math.max(256, cfg.charScale > 0 ? flat.length * 4 : (flat.length >> 2) + 128));

  // --- words (hand-rolled tokenizer: letters/digits runs, inner apostrophes, runs of a few symbols)
  const start = b.n;
  let prev = 0;
  let words = 0;
  let second = 0;
  const L = flat.length;
  let i = 0;
  while (i < L) {
    let c = flat.charCodeAt(i);
    if (isWordChar(c)) {
      let h = SEED_WORD;
      while (i < L) {
        c = flat.charCodeAt(i);
        if (isWordChar(c) || (c === 39 && i + 1 < L && isWordChar(flat.charCodeAt(i + 1)) && i > 0 && isWordChar(flat.charCodeAt(i - 1)))) {
          h = Math.imul(h ^ c, FNV_PRIME);
          i++;
        } else break;
      }
      h >>>= 0;
      b.push(h, 1);
      if (words > 0) b.push(mix(prev, h) ^ SEED_BIGRAM, 1);
      prev = h;
      words++;
      if (h === H_YOU || h === H_YOUR || h === H_YOURE || h === H_YOURSELF) second++;
    } else if (isSymbol(c)) {
      let h = SEED_WORD;
      while (i < L && isSymbol(flat.charCodeAt(i))) {
        h = Math.imul(h ^ flat.charCodeAt(i), FNV_PRIME);
        i++;
      }
      h >>>= 0;
      b.push(h, 1);
      if (words > 0) b.push(mix(prev, h) ^ SEED_BIGRAM, 1);
      prev = h;
      words++;
    } else i++;
  }
  if (b.n > start) b.scaleFrom(start, cfg.wordScale / Math.sqrt(b.n - start));

  // --- char n-grams
  if (cfg.charScale > 0) {
    const cs = b.n;
    const text = ` ${flat} `;
    const len = text.length;
    for (let i = 0; i + cfg.charMin <= len; i++) {
      let h = SEED_CHAR;
      const end = Math.min(len, i + cfg.charMax);
      for (let j = i; j < end; j++) {
        h = Math.imul(h ^ text.charCodeAt(j), FNV_PRIME);
        if (j - i + 1 >= cfg.charMin) b.push(mix(h >>> 0, j - i), 1);
      }
    }
    if (b.n > cs) b.scaleFrom(cs, cfg.charScale / Math.sqrt(b.n - cs));
  }

  // --- meta
  const ms = cfg.metaScale;
  const put = (name: string, v = 1): void => b.push(fnv1a(name, SEED_META), v * ms);
  put('bias-meta');
  const fam = new Map<string, number>();
  let strongAny = false;
  for (const h of meta.hits) {
    put(`rule:${h.name}`);
    if (h.strong) {
      put(`strong:${h.family}`);
      strongAny = true;
    }
    fam.set(h.family, (fam.get(h.family) ?? 0) + 1);
  }
  if (strongAny) put('strong:any', 2);
  for (const f of meta.variantFamilies) put(`variant-strong:${f}`, 2);
  const has = (f: string): boolean => (fam.get(f) ?? 0) > 0;
  const harmCount = meta.harmCount;
  if (harmCount > 0) put(`harm-b${bucket(harmCount, [1, 2, 4])}`);
  const crosses: Array<[string, string]> = [
    ['harm', 'framing'], ['harm', 'roleplay'], ['harm', 'priming'], ['roleplay', 'no-limits'],
    ['ai-context', 'no-limits'], ['roleplay', 'refusal-suppression'], ['framing', 'roleplay'],
    ['harm', 'refusal-suppression'], ['ai-context', 'roleplay'], ['override', 'roleplay'],
    ['persona', 'dual-response'], ['meta', 'harm'],
  ];
  for (const [x, y] of crosses) if (has(x) && has(y)) put(`x:${x}&${y}`);
  if (has('harm') && has('framing') && has('roleplay')) put('x:harm&framing&roleplay');
  for (const [x, y] of CROSSES2) if (has(x) && has(y)) put(`x:${x}&${y}`);
  if (has('harm') && has('disclaimer') && (has('roleplay') || has('framing'))) put('x:harm&disclaimer&fiction');
  if (has('harm') && has('detail') && (has('roleplay') || has('framing'))) put('x:harm&detail&fiction');
  if (harmCount >= 2 && has('roleplay')) put('x:harm2&roleplay');
  const imp = meta.imperativeCount ?? 0;
  if (imp > 0) {
    const density = words > 0 ? (100 * imp) / words : 0;
    put(`imp-b${bucket(imp, [1, 3, 6, 12])}`);
    put(`impd-b${bucket(density, [0.5, 1, 2, 4])}`);
    if (has('roleplay')) put(`imp-role-b${bucket(imp, [1, 3, 6])}`);
  }
  if (meta.tail) {
    const t = meta.tail;
    put(`tail-fn-b${bucket(t.fn, [0.05, 0.15, 0.3])}`);
    put(`tail-odd-b${bucket(t.odd, [0.1, 0.2, 0.35])}`);
    put(`tail-sym-b${bucket(t.sym, [0.01, 0.03, 0.06])}`);
    if (harmCount > 0 && t.fn < 0.15) put('x:harm&tail-salad');
  }
  const d = meta.doc;
  if (d.docContext) {
    put('doc');
    if (d.plantedRequests > 0) put('doc:planted-request', 2);
    if (d.plantedDirectives > 0) put('doc:planted-directive', 2);
    if (d.tableBreaks > 0) put('doc:table-break', 2);
    if (d.strongPlanted > 0) put('doc:strong-planted', 2);
  }
  if (meta.gibberish > 0) {
    put('gib', meta.gibberish * 2);
    put(`gib-b${bucket(meta.gibberish, [0.2, 0.3, 0.4, 0.6])}`);
  }
  put(`len-b${bucket(flat.length, [40, 120, 300, 800, 2000, 5000])}`);
  const wd = words > 0 ? second / words : 0;
  put(`you-b${bucket(wd, [0.01, 0.03, 0.06, 0.1])}`);
  put(`upper-b${bucket(meta.upperRatio, [0.05, 0.15, 0.3])}`);
  return { idx: b.idx, val: b.val, n: b.n };
}

/** Collapse duplicate indices (sorted by index). Used for training. */
export function compactFeatures(v: SparseVec): SparseVec {
  const order = Array.from({ length: v.n }, (_, i) => i).sort((a, b) => (v.idx[a] as number) - (v.idx[b] as number));
  const idx: number[] = [];
  const val: number[] = [];
  for (const i of order) {
    const k = v.idx[i] as number;
    if (idx.length > 0 && idx[idx.length - 1] === k) val[val.length - 1] = (val[val.length - 1] as number) + (v.val[i] as number);
    else {
      idx.push(k);
      val.push(v.val[i] as number);
    }
  }
  return { idx: Int32Array.from(idx), val: Float32Array.from(val), n: idx.length };
}
