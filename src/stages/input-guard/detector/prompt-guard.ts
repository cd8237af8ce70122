/**
 * Local prompt-injection / jailbreak detector (SECURITY-RULES G-7).
 *
 * score(text):
 *  1. normalize (normalize.ts) and run the phrase-family rules (attack-rules.ts) over the WHOLE text (rules.ts);
 *  2. decode bounded variants (base64, hex, ROT13, reversed) and run the rules on them too;
 *  3. score the text with the hashed logistic-regression model (long texts: fixed-size chunks,
 *     maximum taken; the number of chunks is capped, the rules are not);
 *  4. combine: a strong rule hit lifts the score to `ruleScore` (above the threshold); otherwise the
 *     calibrated model probability is the score.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IMPERATIVE_RE } from './cue-rules.js';
import { docSignals } from './doc-signals.js';
import { DEFAULT_FEATURE_CONFIG, extractFeatures, type FeatureConfig, type MetaSignals, type SparseVec } from './features.js';
import { gibberishSuffix, tailStats } from './gibberish-suffix.js';
import { deserializeModel, margin, sigmoid, type TrainedModel } from './model.js';
import { decodedVariants, normalizeCleaned, normalizeText, preDecode, unicodeClean } from './normalize.js';
import type { RuleHit } from './rule-def.js';
import { RULES } from './rule-table.js';
import { countMatches, runRules } from './rules.js';

export interface Detection {
  /** 0..1; compare with `threshold`. */
  score: number;
  /** Rule families that fired ('override', 'exfiltration', 'persona', 'role-spoof', 'indirect',
   *  'encoded:base64', 'gibberish-suffix', …) and 'model' when the model alone is above threshold. */
  reasons: string[];
}

/** A text with its normalized forms, computed by the caller once for every check that reads it. */
export interface PreparedInput {
  readonly raw: string;
  /** `unicodeClean(preDecode(raw))` */
  readonly clean: string;
  /** `normalizeCleaned(clean, { keepLines: true })` */
  readonly lines: string;
}

/** The normalized forms of a text, as `score` computes them. */
export function prepareInput(raw: string): PreparedInput {
  const clean = unicodeClean(preDecode(raw));
  return { raw, clean, lines: normalizeCleaned(clean, { keepLines: true }) };
}

export interface PromptGuard {
  score(text: string): Detection;
  /** `score` on a text already normalized (the input guard normalizes each text once per request). */
  scorePrepared(input: PreparedInput): Detection;
  readonly version: string;
  /** Recommended decision threshold on `score` (always OPERATING_POINT: scores are mapped onto it). */
  readonly threshold: number;
}

/** Gibberish-suffix score at which the suffix alone counts as a strong signal. */
export const GIBBERISH_STRONG = 0.5;
/** Cap on the number of model chunks for very long texts (rules still scan everything). */
const MAX_MODEL_CHUNKS = 24;
const MAX_VARIANT_MODEL_CHARS = 16 * 1024;

const HARM_RULE = RULES.find((r) => r.family === 'harm');

export interface Analysis {
  /** Strong families found in the text itself, in rule order, plus 'encoded:<via>' entries. */
  reasons: string[];
  /** Feature vectors the model scores (max is taken). */
  vectors: SparseVec[];
}

function uniquePush(arr: string[], v: string): void {
  if (!arr.includes(v)) arr.push(v);
}

function strongFamilies(hits: readonly RuleHit[]): string[] {
  const out: string[] = [];
  for (const h of hits) if (h.strong) uniquePush(out, h.family);
  return out;
}

function chunks(s: string, size: number): string[] {
  if (s.length <= size) return [s];
  const step = size - 512;
  const starts: number[] = [];
  for (let i = 0; i < s.length; i += step) starts.push(i);
  let chosen = starts;
  if (starts.length > MAX_MODEL_CHUNKS) {
    const head = starts.slice(0, MAX_MODEL_CHUNKS - 2);
    chosen = [...head, ...starts.slice(-2)];
  }
  return chosen.map((i) => s.slice(i, i + size));
}

/** Everything the model and the rules need from a text. Shared by training and scoring. */
export function analyze(text: string, cfg: FeatureConfig): Analysis {
  return analyzePrepared(prepareInput(text), cfg);
}

export function analyzePrepared(input: PreparedInput, cfg: FeatureConfig): Analysis {
  const { raw: text, clean, lines } = input;
  const flat = lines.replace(/\n/g, ' ');
  const hits = runRules(flat, lines);
  const doc = docSignals(lines);
  const gib = gibberishSuffix(clean);
  const reasons = strongFamilies(hits);
  if (doc.docContext && (doc.plantedDirectives > 0 || doc.strongPlanted > 0)) uniquePush(reasons, 'indirect');
  if (gib >= GIBBERISH_STRONG) uniquePush(reasons, 'gibberish-suffix');

  const variantFamilies: string[] = [];
  const variantTexts: string[] = [];
  for (const v of decodedVariants(text, clean)) {
    const vlines = normalizeText(v.text, { keepLines: true });
    const vflat = vlines.replace(/\n/g, ' ');
    const vhits = runRules(vflat, vlines);
    const fams = strongFamilies(vhits);
    if (fams.length > 0) {
      for (const f of fams) {
        uniquePush(reasons, f);
        uniquePush(variantFamilies, f);
      }
      uniquePush(reasons, `encoded:${v.via}`);
    }
    if ((v.via === 'base64' || v.via === 'hex' || v.via === 'morse') && vflat.length <= MAX_VARIANT_MODEL_CHARS) variantTexts.push(vflat);
  }

  let upper = 0;
  let letters = 0;
  const sample = clean.length > 8192 ? clean.slice(0, 8192) : clean;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      upper++;
      letters++;
    } else if (c >= 97 && c <= 122) letters++;
  }
  const meta: MetaSignals = {
    hits,
    doc,
    gibberish: gib,
    variantFamilies,
    upperRatio: letters > 0 ? upper / letters : 0,
    // the harm cue is the same regex: no hit means no matches
    harmCount: HARM_RULE && hits.some((h) => h.name === HARM_RULE.name) ? countMatches(HARM_RULE.re, flat, 16) : 0,
    imperativeCount: hits.some((h) => h.name === 'cue.imperative') ? countMatches(IMPERATIVE_RE, flat, 32) : 0,
    tail: tailStats(clean),
  };
  const vectors = chunks(flat, cfg.chunkChars).map((c) => extractFeatures(c, meta, cfg));
  for (const vt of variantTexts) {
    const vmeta: MetaSignals = { ...meta, hits: runRules(vt, vt), doc: docSignals(vt), gibberish: 0 };
    vectors.push(extractFeatures(vt.slice(0, cfg.chunkChars), vmeta, cfg));
  }
  return { reasons, vectors };
}

/**
 * The score scale routes configure against: the model's recommended operating point (chosen by
 * cross-validation, different for every trained model) is mapped to this value, so a route's
 * `threshold: 0.85` keeps its meaning when the model is retrained.
 */
export const OPERATING_POINT = 0.85;

/** Monotone piecewise-linear map of a calibrated probability onto the operating-point scale. */
export function toOperatingScale(p: number, modelThreshold: number): number {
  if (p <= modelThreshold) return (OPERATING_POINT * p) / modelThreshold;
  return OPERATING_POINT + ((1 - OPERATING_POINT) * (p - modelThreshold)) / (1 - modelThreshold);
}

export function createPromptGuard(model: TrainedModel): PromptGuard {
  const cfg = model.features;
  const { a, b } = model.calibration;
  const threshold = model.threshold;
  const ruleScore = Math.max(model.ruleScore, threshold);
  const scorePrepared = (input: PreparedInput): Detection => {
    if (input.raw.length === 0) return { score: 0, reasons: [] };
    const an = analyzePrepared(input, cfg);
    let best = -Infinity;
    for (const v of an.vectors) {
      const m = margin(model.weights, model.bias, v);
      if (m > best) best = m;
    }
    const p = sigmoid(a * best + b);
    const reasons = an.reasons.slice();
    let score = p;
    if (reasons.length > 0) score = Math.max(p, ruleScore);
    if (p >= threshold) reasons.push('model');
    return { score: toOperatingScale(Math.min(1, Math.max(0, score)), threshold), reasons };
  };
  return {
    version: model.version,
    threshold: OPERATING_POINT,
    score(text: string): Detection {
      if (typeof text !== 'string' || text.length === 0) return { score: 0, reasons: [] };
      return scorePrepared(prepareInput(text));
    },
    scorePrepared,
  };
}

/** Default location of the trained weights: `<repo>/models/prompt-guard.json` (same depth from src/ and dist/). */
export const DEFAULT_WEIGHTS_URL = new URL('../../../../models/prompt-guard.json', import.meta.url);

export function loadPromptGuard(weightsPath?: string): PromptGuard {
  const path = weightsPath ?? fileURLToPath(DEFAULT_WEIGHTS_URL);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`prompt-guard: cannot read weights at ${path}: ${(err as Error).message}`);
  }
  return createPromptGuard(deserializeModel(raw));
}

export { DEFAULT_FEATURE_CONFIG };
export type { TrainedModel, FeatureConfig };
