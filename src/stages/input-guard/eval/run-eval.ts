/**
 * `bulwark eval prompt-guard`: score a labeled JSONL file with the prompt-injection detector and
 * report detection quality and latency. Pure apart from reading files and the clock.
 */

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { PromptGuard } from '../detector/prompt-guard.js';
import { auc, breakdown, confusionAt, percentile, tprAtFpr, type GroupMetrics, type Label, type PointMetrics } from './metrics.js';

export interface EvalRow {
  text: string;
  label: Label;
  source: string;
  kind: string;
}

/** Group key for rows without `source` / `kind`. */
export const NONE = '(none)';
/** FPR budgets of the threshold sweep. */
export const SWEEP_FPRS = [0.005, 0.01, 0.02] as const;
/** Untimed `score()` calls before timing starts (the first texts of the file, cycled). */
export const WARMUP_CALLS = 50;

/** A JSONL line that is not a usable row; `line` is 1-based. */
export class EvalInputError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'EvalInputError';
  }
}

/** Parse JSONL text: one `{text, label 0|1, source?, kind?}` per line, blank lines skipped. */
export function parseEvalJsonl(content: string, file: string): EvalRow[] {
  const rows: EvalRow[] = [];
  const lines = content.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const n = i + 1;
    const bad = (why: string) => new EvalInputError(`${file}:${n}: ${why}`, n);
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (err) {
      throw bad(`not valid JSON (${(err as Error).message})`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('expected a JSON object {"text", "label", "source"?, "kind"?}');
    const r = o as Record<string, unknown>;
    if (typeof r.text !== 'string') throw bad('"text" must be a string');
    if (r.label !== 0 && r.label !== 1) throw bad(`"label" must be 0 (benign) or 1 (attack), got ${JSON.stringify(r.label) ?? 'nothing'}`);
    for (const k of ['source', 'kind'] as const) {
      if (r[k] !== undefined && r[k] !== null && typeof r[k] !== 'string') throw bad(`"${k}" must be a string when present`);
    }
    rows.push({
      text: r.text,
      label: r.label,
      source: typeof r.source === 'string' && r.source !== '' ? r.source : NONE,
      kind: typeof r.kind === 'string' && r.kind !== '' ? r.kind : NONE,
    });
  });
  if (rows.length === 0) throw new EvalInputError(`${file}: no rows (expected one JSON object per line)`);
  return rows;
}

/** Read and parse a JSONL file; a missing or unreadable file is an EvalInputError. */
export function readEvalFile(path: string): EvalRow[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EvalInputError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${(err as Error).message})`);
  }
  return parseEvalJsonl(content, path);
}

/** Cross-validated numbers the training script stores in the weights file (`cv`). */
export interface CvSummary {
  folds?: number;
  threshold?: number;
  tpr?: number;
  fpr?: number;
  precision?: number;
  f1?: number;
  tprAtFpr?: Record<string, number>;
  modelAuc?: number;
  [k: string]: unknown;
}

export interface ModelInfo {
  cv: CvSummary | null;
  /** `training.data` / `training.rows` from the weights file, when present. */
  trainedOn: { data?: string; rows?: number } | null;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The `cv` and `training` fields of a weights file (already known to load). */
export function readModelInfo(weightsPath: string): ModelInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(weightsPath, 'utf8'));
  } catch {
    return { cv: null, trainedOn: null };
  }
  if (!isRecord(raw)) return { cv: null, trainedOn: null };
  const cv = isRecord(raw.cv) ? (raw.cv as CvSummary) : null;
  const t = raw.training;
  const trainedOn = isRecord(t) ? { ...(typeof t.data === 'string' ? { data: t.data } : {}), ...(typeof t.rows === 'number' ? { rows: t.rows } : {}) } : null;
  return { cv, trainedOn };
}

export interface SweepPoint extends PointMetrics {
  maxFpr: number;
}

export interface LatencyReport {
  /** Texts timed (every row, once). */
  timed: number;
  warmupCalls: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** p50 / p99 over 4 KB texts built from the file's texts (see method4KB). */
  p50Ms4KB: number;
  p99Ms4KB: number;
  method4KB: string;
}

export interface GateReport {
  minTpr: number | null;
  maxFpr: number | null;
  passed: boolean;
  failures: string[];
}

export interface EvalReport {
  file: string;
  model: { version: string; weights: string; defaultThreshold: number };
  threshold: number;
  thresholdSource: 'model' | 'option';
  counts: { rows: number; positives: number; negatives: number };
  atThreshold: PointMetrics;
  sweep: SweepPoint[];
  /** ROC AUC of the scores; null when the file has only one class. */
  auc: number | null;
  byKind: GroupMetrics[];
  bySource: GroupMetrics[];
  latency: LatencyReport;
  note: string;
  cv: CvSummary | null;
  trainedOn: ModelInfo['trainedOn'];
  gates: GateReport;
  /** With `errors`: the rows decided wrongly at the threshold (row = 1-based index among the file's rows). */
  misclassified?: Misclassified[];
}

export interface Misclassified {
  row: number;
  label: Label;
  score: number;
  source: string;
  kind: string;
  /** The first 100 characters on one line. */
  preview: string;
}

export interface EvaluateOptions {
  file: string;
  weights: string;
  threshold?: number;
  minTpr?: number;
  maxFpr?: number;
  modelInfo?: ModelInfo;
  /** Called every so often while scoring (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Clock in ms (tests); defaults to performance.now(). */
  now?: () => number;
  /** List the rows decided wrongly at the threshold. */
  errors?: boolean;
}

export const NOTE =
  'evaluating the shipped model on the data it was trained on gives optimistic numbers; ' +
  'the cross-validated numbers are in the `cv` field of the model file';

/** Score every row (timing each call) and compute the report. */
const SAMPLES_4KB = 200;

export function evaluate(guard: PromptGuard, rows: readonly EvalRow[], opts: EvaluateOptions): EvalReport {
  const now = opts.now ?? (() => performance.now());
  const warm = rows.length === 0 ? 0 : WARMUP_CALLS;
  for (let i = 0; i < warm; i++) guard.score((rows[i % rows.length] as EvalRow).text);

  const scores: number[] = [];
  const times: number[] = [];
  const every = Math.max(1, Math.floor(rows.length / 100));
  rows.forEach((r, i) => {
    const t0 = now();
    const d = guard.score(r.text);
    const dt = now() - t0;
    scores.push(d.score);
    times.push(dt);
    if (opts.onProgress && (i % every === 0 || i === rows.length - 1)) opts.onProgress(i + 1, rows.length);
  });

  // Measured on real 4 KB texts, not extrapolated from short ones (a fixed cost per call would
  // make a 20-character text look like a slow 4 KB one).
  const at4k: number[] = [];
  for (let start = 0; start < Math.min(rows.length, SAMPLES_4KB); start++) {
    let text = '';
    for (let j = start; text.length < 4096 && j < start + rows.length; j++) text += `${(rows[j % rows.length] as EvalRow).text}\n`;
    text = text.slice(0, 4096);
    const t0 = now();
    guard.score(text);
    at4k.push(now() - t0);
  }

  const labels = rows.map((r) => r.label);
  const positives = labels.filter((y) => y === 1).length;
  const negatives = rows.length - positives;
  const threshold = opts.threshold ?? guard.threshold;
  const atThreshold = confusionAt(scores, labels, threshold);

  const failures: string[] = [];
  if (opts.minTpr !== undefined && !(atThreshold.tpr >= opts.minTpr)) failures.push(`TPR ${fmtPct(atThreshold.tpr)} is below --min-tpr ${fmtPct(opts.minTpr)}`);
  if (opts.maxFpr !== undefined && !(atThreshold.fpr <= opts.maxFpr)) failures.push(`FPR ${fmtPct(atThreshold.fpr)} is above --max-fpr ${fmtPct(opts.maxFpr)}`);

  const info = opts.modelInfo ?? { cv: null, trainedOn: null };
  return {
    file: opts.file,
    model: { version: guard.version, weights: opts.weights, defaultThreshold: guard.threshold },
    threshold,
    thresholdSource: opts.threshold === undefined ? 'model' : 'option',
    counts: { rows: rows.length, positives, negatives },
    atThreshold,
    sweep: SWEEP_FPRS.map((f) => ({ maxFpr: f, ...tprAtFpr(scores, labels, f) })),
    auc: positives > 0 && negatives > 0 ? auc(scores, labels) : null,
    byKind: breakdown(
      rows.map((r) => r.kind),
      scores,
      labels,
      threshold,
    ),
    bySource: breakdown(
      rows.map((r) => r.source),
      scores,
      labels,
      threshold,
    ),
    latency: {
      timed: rows.length,
      warmupCalls: warm,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
      maxMs: times.length > 0 ? times.reduce((a, b) => (b > a ? b : a), -Infinity) : NaN,
      meanMs: times.length > 0 ? times.reduce((a, b) => a + b, 0) / times.length : NaN,
      p50Ms4KB: percentile(at4k, 50),
      p99Ms4KB: percentile(at4k, 99),
      method4KB: `${at4k.length} texts of 4096 UTF-16 code units, each the file's texts joined in order from a different start, timed once each`,
    },
    note: NOTE,
    cv: info.cv,
    trainedOn: info.trainedOn,
    gates: { minTpr: opts.minTpr ?? null, maxFpr: opts.maxFpr ?? null, passed: failures.length === 0, failures },
    ...(opts.errors
      ? {
          misclassified: rows.flatMap((r, i) =>
            ((scores[i] as number) >= threshold) === (r.label === 1)
              ? []
              : [{ row: i + 1, label: r.label, score: scores[i] as number, source: r.source, kind: r.kind, preview: r.text.replace(/\s+/g, ' ').slice(0, 100) }],
          ),
        }
      : {}),
  };
}

// ---- human output ----------------------------------------------------------------------------------

function fmtPct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function budget(f: number): string {
  return `${+(100 * f).toFixed(2)}%`;
}

function ms(x: number): string {
  return x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, rightFrom: number): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((v, c) => (c >= rightFrom ? v.padStart(widths[c] as number) : v.padEnd(widths[c] as number)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

function groupTable(title: string, groups: readonly GroupMetrics[]): string[] {
  const rows = groups.map((g) => [g.key, String(g.n), String(g.positives), String(g.negatives), g.tpr === null ? '-' : fmtPct(g.tpr), g.fpr === null ? '-' : fmtPct(g.fpr)]);
  return [title, ...table([title === 'by kind' ? 'kind' : 'source', 'n', 'attacks', 'benign', 'TPR', 'FPR'], rows, 1).map((l) => `  ${l}`)];
}

function cvLines(cv: CvSummary): string[] {
  const out: string[] = [];
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  // cv.threshold is on the model's raw probability scale, which the detector maps onto its own
  // score scale; the rates at it are the rates at the recommended threshold.
  const head = `${num(cv.folds) ? `${cv.folds}-fold` : 'cross-validated'}${cv.pooled === true ? ', pooled out-of-fold' : ''}, at the recommended threshold`;
  const parts: string[] = [];
  if (num(cv.tpr)) parts.push(`TPR ${fmtPct(cv.tpr)}`);
  if (num(cv.fpr)) parts.push(`FPR ${fmtPct(cv.fpr)}`);
  if (num(cv.precision)) parts.push(`precision ${fmtPct(cv.precision)}`);
  if (num(cv.f1)) parts.push(`F1 ${cv.f1.toFixed(3)}`);
  if (num(cv.modelAuc)) parts.push(`model AUC ${cv.modelAuc.toFixed(4)}`);
  if (parts.length > 0) out.push(`  cv (${head}): ${parts.join('  ')}`);
  if (isRecord(cv.tprAtFpr)) {
    const sweep = Object.entries(cv.tprAtFpr)
      .filter((e): e is [string, number] => num(e[1]))
      .map(([f, t]) => `FPR <= ${budget(Number(f))}: ${fmtPct(t)}`);
    if (sweep.length > 0) out.push(`  cv TPR at ${sweep.join(', ')}`);
  }
  return out;
}

/** The report as a human-readable text (ends with a newline). */
export function formatReport(r: EvalReport): string {
  const L: string[] = [];
  const c = r.counts;
  L.push(`prompt-guard eval: ${r.file}`);
  L.push(`model ${r.model.version} (${r.model.weights})`);
  L.push(`rows ${c.rows}: ${c.positives} attacks (label 1), ${c.negatives} benign (label 0)`);
  L.push('');
  const a = r.atThreshold;
  L.push(`at threshold ${r.threshold}${r.thresholdSource === 'model' ? ' (the model\'s recommended threshold)' : ` (--threshold; the model recommends ${r.model.defaultThreshold})`}`);
  L.push(`  TPR ${fmtPct(a.tpr)}  FPR ${fmtPct(a.fpr)}  precision ${fmtPct(a.precision)}  F1 ${a.f1.toFixed(3)}`);
  L.push(`  TP ${a.tp}  FP ${a.fp}  TN ${a.tn}  FN ${a.fn}`);
  L.push('');
  L.push('threshold sweep (best TPR within an FPR budget, at the lowest threshold achieving it)');
  L.push(
    ...table(
      ['FPR budget', 'TPR', 'FPR', 'TP', 'FP', 'threshold'],
      r.sweep.map((s) => [`<= ${budget(s.maxFpr)}`, fmtPct(s.tpr), fmtPct(s.fpr), String(s.tp), String(s.fp), s.threshold.toFixed(4)]),
      1,
    ).map((l) => `  ${l}`),
  );
  L.push(`AUC ${r.auc === null ? '- (needs both attacks and benign texts)' : r.auc.toFixed(4)}`);
  L.push('');
  L.push(...groupTable('by kind', r.byKind));
  L.push('');
  L.push(...groupTable('by source', r.bySource));
  L.push('');
  const t = r.latency;
  L.push(`latency per text (performance.now() around score(), ${t.timed} texts timed once each after ${t.warmupCalls} warm-up calls)`);
  L.push(`  p50 ${ms(t.p50Ms)} ms  p99 ${ms(t.p99Ms)} ms  max ${ms(t.maxMs)} ms  mean ${ms(t.meanMs)} ms`);
  L.push(`  4 KB texts: p50 ${ms(t.p50Ms4KB)} ms  p99 ${ms(t.p99Ms4KB)} ms (${t.method4KB})`);
  L.push('');
  if (r.misclassified) {
    const shown = r.misclassified.slice(0, 200);
    L.push(`misclassified at the threshold: ${r.misclassified.length}${shown.length < r.misclassified.length ? ` (first ${shown.length}; --json has all)` : ''}`);
    for (const m of shown) L.push(`  row ${m.row}  ${m.label === 1 ? 'missed attack ' : 'false alarm   '} score ${m.score.toFixed(3)}  ${m.source}  ${JSON.stringify(m.preview)}`);
    L.push('');
  }
  L.push(`note: ${r.note}.`);
  if (r.trainedOn?.data) L.push(`  this model was trained on: ${r.trainedOn.data}${r.trainedOn.rows !== undefined ? `, ${r.trainedOn.rows} rows` : ''}`);
  if (r.cv) L.push(...cvLines(r.cv));
  else L.push('  (the model file has no cv field)');
  if (r.gates.minTpr !== null || r.gates.maxFpr !== null) {
    L.push('');
    L.push(r.gates.passed ? 'gates: passed' : `gates: FAILED: ${r.gates.failures.join('; ')}`);
  }
  return `${L.join('\n')}\n`;
}
