import { createHash, createHmac } from 'node:crypto';
import type { WatermarkKey } from './text.js';

/**
 * Keyed numeric watermark for embeddings and logprobs (route `output.watermark.numbers: round4`).
 *
 * Each value is rounded to 4 decimals, then a keyed offset of 0.10e-4 … 0.45e-4 (whole millionths,
 * so values print with at most 6 decimals) with a keyed sign is added: |out - in| < 1e-4 (rounding
 * ≤ 0.5e-4 plus offset ≤ 0.45e-4). The offsets come from
 * HMAC-SHA256(key, clientId + "\0" + sha256(input) + "\0" + block), 16 bits per value: the same for
 * the same client and input (averaging repeated queries does not remove them), different for every
 * client and every input.
 *
 * Checking a vector needs the input it was computed for (the text that was embedded), the key and
 * a candidate client id: `vectorMatchesClient` compares the sign of each value's residual
 * (value - round4(value)) with that client's offsets.
 *
 * Limits: this identifies verbatim copies only. Anyone who rounds the values to 4 decimals (or
 * coarser), or adds noise of about 1e-4, removes the mark; a few values (a top-5 logprob list)
 * carry too few bits to identify anyone by themselves.
 */

export interface VectorWatermarkOptions {
  key: WatermarkKey;
  clientId: string;
  /** What the vector was computed from (the embedded text, the prompt), exactly as sent upstream. */
  input: string;
  /** Keep values in a range (e.g. `{ max: 0 }` for logprobs); a clamped value loses its mark. */
  clamp?: { min?: number; max?: number };
}

const STEP = 1e-4;
/** Offsets are whole millionths, 10…45 of them, so a marked value prints with at most 6 decimals. */
const MIN_OFFSET = 10;
const OFFSET_CHOICES = 36;
/** Beyond this a 1e-5 offset is below float resolution: such values are left alone. */
const MAX_ABS = 1e9;

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** The signed offsets (in millionths) for `n` values. */
function offsets(opts: VectorWatermarkOptions, n: number): Int8Array {
  const out = new Int8Array(n);
  const prefix = opts.clientId + '\0' + createHash('sha256').update(opts.input).digest('hex') + '\0';
  for (let block = 0; block * 16 < n; block++) {
    const h = createHmac('sha256', opts.key).update(prefix + block).digest();
    for (let j = 0; j < 16 && block * 16 + j < n; j++) {
      const u = h.readUInt16BE(j * 2);
      const sign = u & 1 ? 1 : -1;
      out[block * 16 + j] = sign * (MIN_OFFSET + ((u >>> 1) % OFFSET_CHOICES));
    }
  }
  return out;
}

function markable(v: number): boolean {
  return Number.isFinite(v) && Math.abs(v) < MAX_ABS;
}

/** The vector rounded to 4 decimals with the client's keyed offsets added (non-finite values untouched). */
export function watermarkVector(values: readonly number[], opts: VectorWatermarkOptions): number[] {
  const off = offsets(opts, values.length);
  const min = opts.clamp?.min ?? -Infinity;
  const max = opts.clamp?.max ?? Infinity;
  return values.map((v, i) => {
    if (!markable(v)) return v;
    const out = (Math.round(v * 1e4) * 100 + off[i]!) / 1e6;
    return Math.min(max, Math.max(min, out));
  });
}

export interface VectorMatch {
  /** Mean of sign(residual) × sign(expected offset) over the values: ≈1 for the client, ≈0 otherwise. */
  score: number;
  match: boolean;
  /** Values with a non-zero residual that were compared. */
  compared: number;
  /** log10 of the chance that a vector not marked for this client agrees this well (binomial tail). */
  log10FalseMatch: number;
}

/** log10 P(X ≥ k) for X ~ Binomial(m, 1/2). */
function log10BinomialTail(m: number, k: number): number {
  if (k <= 0) return 0;
  if (k > m) return -Infinity;
  const lnFact = new Float64Array(m + 1);
  for (let i = 2; i <= m; i++) lnFact[i] = lnFact[i - 1]! + Math.log(i);
  const terms: number[] = [];
  for (let j = k; j <= m; j++) terms.push(lnFact[m]! - lnFact[j]! - lnFact[m - j]! - m * Math.LN2);
  const top = Math.max(...terms);
  const sum = terms.reduce((s, t) => s + Math.exp(t - top), 0);
  return (top + Math.log(sum)) / Math.LN10;
}

/**
 * Whether `values` carry `clientId`'s mark for `input`. A match needs a score ≥ 0.5 and a
 * false-match chance below 1e-9 (about 30 agreeing values at the least); a 1536-dim embedding
 * scores ≈1.0 for its client and ≈0 ± 0.03 for any other.
 */
export function vectorMatchesClient(values: readonly number[], opts: VectorWatermarkOptions): VectorMatch {
  const off = offsets(opts, values.length);
  let agree = 0;
  let compared = 0;
  let sum = 0;
  let n = 0;
  values.forEach((v, i) => {
    if (!markable(v)) return;
    n++;
    const residual = v - round4(v);
    if (Math.abs(residual) < STEP * 1e-3) return; // on the grid: no mark (rounded or clamped)
    compared++;
    const s = Math.sign(residual) * Math.sign(off[i]!);
    sum += s;
    if (s > 0) agree++;
  });
  const score = n === 0 ? 0 : sum / n;
  const log10FalseMatch = log10BinomialTail(compared, agree);
  return { score, match: score >= 0.5 && log10FalseMatch <= -9, compared, log10FalseMatch };
}
