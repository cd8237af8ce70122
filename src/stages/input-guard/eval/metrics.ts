/**
 * Pure metrics for scoring a binary detector: confusion at a threshold, the best TPR under an FPR
 * budget, ROC AUC, percentiles and per-group breakdowns.
 *
 * Convention everywhere: a text is flagged when `score >= threshold`; label 1 = attack (positive),
 * label 0 = benign (negative). Used by `bulwark eval prompt-guard` and scripts/train-prompt-guard.ts.
 */

export type Label = 0 | 1;

export interface PointMetrics {
  threshold: number;
  /** tp / (tp + fn); 0 when there are no positives. */
  tpr: number;
  /** fp / (fp + tn); 0 when there are no negatives. */
  fpr: number;
  /** tp / (tp + fp); 0 when nothing is flagged. */
  precision: number;
  /** Harmonic mean of precision and TPR; 0 when both are 0. */
  f1: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** Confusion counts and rates when texts with `score >= t` are flagged. */
export function confusionAt(scores: readonly number[], labels: readonly number[], t: number): PointMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  scores.forEach((s, i) => {
    const pos = s >= t;
    if (labels[i] === 1) {
      if (pos) tp++;
      else fn++;
    } else if (pos) fp++;
    else tn++;
  });
  const tpr = tp / Math.max(1, tp + fn);
  const fpr = fp / Math.max(1, fp + tn);
  const precision = tp / Math.max(1, tp + fp);
  const f1 = (2 * precision * tpr) / Math.max(1e-9, precision + tpr);
  return { threshold: t, tpr, fpr, precision, f1, tp, fp, fn, tn };
}

/**
 * The best TPR whose FPR stays `<= maxFpr`, at the lowest threshold that achieves it.
 *
 * With N negatives, at most floor(maxFpr × N) of them may be flagged. The threshold is placed just
 * above the (allowed+1)-th highest negative score: midway between it and the next higher score (any
 * label), or that score + 1e-6 when nothing is higher. Negatives tied with that score are all left
 * unflagged, so with ties the FPR can be below the budget. When the budget allows every negative,
 * the threshold is 0 (everything flagged).
 */
export function tprAtFpr(scores: readonly number[], labels: readonly number[], maxFpr: number): PointMetrics {
  const negs = scores.filter((_, i) => labels[i] === 0).sort((a, b) => b - a);
  const allowed = Math.floor(maxFpr * negs.length + 1e-9);
  const cut = negs[allowed];
  let t: number;
  if (cut === undefined) t = 0;
  else {
    const above = scores.filter((s) => s > cut).sort((a, b) => a - b)[0];
    t = above === undefined ? cut + 1e-6 : (cut + above) / 2;
  }
  return confusionAt(scores, labels, t);
}

/**
 * ROC AUC (Mann-Whitney U / (P × N)); tied scores share their average rank, so a positive tied with
 * a negative counts one half. Returns 0 when either class is empty (undefined): callers that may
 * meet one-class data check the counts first.
 */
export function auc(scores: readonly number[], labels: readonly number[]): number {
  const idx = scores.map((s, i) => [s, labels[i] as number] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let nPos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j < idx.length && (idx[j] as readonly [number, number])[0] === (idx[i] as readonly [number, number])[0]) j++;
    const avg = (i + j + 1) / 2;
    for (let k = i; k < j; k++)
      if ((idx[k] as readonly [number, number])[1] === 1) {
        rankSum += avg;
        nPos++;
      }
    i = j;
  }
  const nNeg = idx.length - nPos;
  return (rankSum - (nPos * (nPos + 1)) / 2) / Math.max(1, nPos * nNeg);
}

/**
 * Nearest-rank percentile: the smallest value such that at least p % of the values are <= it
 * (sorted[ceil(p/100 × n) - 1]); p = 0 gives the minimum. NaN for an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface GroupMetrics {
  key: string;
  n: number;
  positives: number;
  negatives: number;
  /** Texts flagged (score >= threshold), both labels. */
  flagged: number;
  tp: number;
  fp: number;
  /** tp / positives, or null when the group has no positives. */
  tpr: number | null;
  /** fp / negatives, or null when the group has no negatives. */
  fpr: number | null;
}

/** Per-group counts and rates at threshold `t`, sorted by key. */
export function breakdown(keys: readonly string[], scores: readonly number[], labels: readonly number[], t: number): GroupMetrics[] {
  const groups = new Map<string, GroupMetrics>();
  keys.forEach((key, i) => {
    let g = groups.get(key);
    if (!g) {
      g = { key, n: 0, positives: 0, negatives: 0, flagged: 0, tp: 0, fp: 0, tpr: null, fpr: null };
      groups.set(key, g);
    }
    const flagged = (scores[i] as number) >= t;
    g.n++;
    if (flagged) g.flagged++;
    if (labels[i] === 1) {
      g.positives++;
      if (flagged) g.tp++;
    } else {
      g.negatives++;
      if (flagged) g.fp++;
    }
  });
  const out = [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const g of out) {
    g.tpr = g.positives > 0 ? g.tp / g.positives : null;
    g.fpr = g.negatives > 0 ? g.fp / g.negatives : null;
  }
  return out;
}
