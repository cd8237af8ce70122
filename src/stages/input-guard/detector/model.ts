import { seededRandom } from '../../../util/seeded-random.js';
/**
 * L2-regularized logistic regression over hashed sparse features, trained with AdaGrad,
 * with Platt calibration of the raw margin, and a compact serialized form
 * (quantized, non-zero weights only, delta-varint indices, base64).
 */

import type { FeatureConfig, SparseVec } from './features.js';

export interface TrainOptions {
  /** L2 strength (per example, applied to the touched weights). */
  l2: number;
  epochs: number;
  learningRate: number;
  /** Weight of positive examples in the loss. */
  posWeight: number;
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { l2: 1e-4, epochs: 40, learningRate: 0.1, posWeight: 1, seed: 7 };

export interface Calibration {
  a: number;
  b: number;
}

/** A trained model in memory. */
export interface TrainedModel {
  version: string;
  features: FeatureConfig;
  bias: number;
  weights: Float32Array;
  calibration: Calibration;
  /** Recommended decision threshold on the calibrated score. */
  threshold: number;
  /** Score given to texts with a strong rule hit (above the threshold). */
  ruleScore: number;
  cv?: unknown;
}

/** Seeded PRNG (mulberry32), shared with the tests that need reproducible randomness. */
export const rng = seededRandom;

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function margin(weights: Float32Array, bias: number, x: SparseVec): number {
  let z = bias;
  for (let i = 0; i < x.n; i++) z += (weights[x.idx[i] as number] as number) * (x.val[i] as number);
  return z;
}

export function trainLogistic(xs: readonly SparseVec[], ys: readonly number[], bits: number, opt: TrainOptions): { weights: Float32Array; bias: number } {
  const dim = 1 << bits;
  const w = new Float64Array(dim);
  const g2 = new Float64Array(dim);
  let bias = 0;
  let bg2 = 0;
  const rand = rng(opt.seed);
  const order = Array.from({ length: xs.length }, (_, i) => i);
  for (let ep = 0; ep < opt.epochs; ep++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    for (const k of order) {
      const x = xs[k] as SparseVec;
      const y = ys[k] as number;
      let z = bias;
      for (let i = 0; i < x.n; i++) z += (w[x.idx[i] as number] as number) * (x.val[i] as number);
      const p = sigmoid(z);
      const cw = y === 1 ? opt.posWeight : 1;
      const g = (p - y) * cw;
      for (let i = 0; i < x.n; i++) {
        const j = x.idx[i] as number;
        const gj = g * (x.val[i] as number) + opt.l2 * (w[j] as number);
        g2[j] = (g2[j] as number) + gj * gj;
        w[j] = (w[j] as number) - (opt.learningRate * gj) / (Math.sqrt(g2[j] as number) + 1e-8);
      }
      bg2 += g * g;
      bias -= (opt.learningRate * g) / (Math.sqrt(bg2) + 1e-8);
    }
  }
  return { weights: Float32Array.from(w), bias };
}

/** Platt scaling: fit sigmoid(a*m + b) to labels (Newton with backtracking line search, Lin et al. 2007). */
export function fitPlatt(margins: readonly number[], ys: readonly number[]): Calibration {
  const nPos = ys.filter((y) => y === 1).length;
  const nNeg = ys.length - nPos;
  const hi = (nPos + 1) / (nPos + 2);
  const lo = 1 / (nNeg + 2);
  const t = ys.map((y) => (y === 1 ? hi : lo));
  const obj = (a: number, b: number): number => {
    let f = 0;
    for (let i = 0; i < margins.length; i++) {
      const z = a * (margins[i] as number) + b;
      const ti = t[i] as number;
      // -[t log p + (1-t) log(1-p)] computed stably
      f += z >= 0 ? ti * Math.log1p(Math.exp(-z)) + (1 - ti) * (z + Math.log1p(Math.exp(-z))) : ti * (-z + Math.log1p(Math.exp(z))) + (1 - ti) * Math.log1p(Math.exp(z));
    }
    return f;
  };
  let a = 1;
  let b = 0;
  let f = obj(a, b);
  for (let it = 0; it < 100; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < margins.length; i++) {
      const m = margins[i] as number;
      const p = sigmoid(a * m + b);
      const d = p - (t[i] as number);
      const s = p * (1 - p);
      ga += d * m;
      gb += d;
      haa += s * m * m;
      hab += s * m;
      hbb += s;
    }
    if (Math.abs(ga) < 1e-6 && Math.abs(gb) < 1e-6) break;
    const det = haa * hbb - hab * hab;
    const da = det > 1e-12 ? -(hbb * ga - hab * gb) / det : -ga;
    const db = det > 1e-12 ? -(haa * gb - hab * ga) / det : -gb;
    let step = 1;
    let improved = false;
    while (step > 1e-10) {
      const na = a + step * da;
      const nb = b + step * db;
      const nf = obj(na, nb);
      if (nf < f + 1e-4 * step * (ga * da + gb * db)) {
        a = na;
        b = nb;
        f = nf;
        improved = true;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  return { a, b };
}

// ---------------------------------------------------------------------------------------------
// Serialization

export interface SerializedWeights {
  encoding: 'sparse-q16-delta-varint-base64';
  count: number;
  scale: number;
  indices: string;
  values: string;
}

export interface SerializedModel {
  format: 'bulwark-prompt-guard';
  version: string;
  features: FeatureConfig;
  bias: number;
  calibration: Calibration;
  threshold: number;
  ruleScore: number;
  weights: SerializedWeights;
  cv?: unknown;
  training?: unknown;
}

export function quantizeWeights(w: Float32Array, minAbs = 0): SerializedWeights {
  let max = 0;
  for (const v of w) if (Math.abs(v) > max) max = Math.abs(v);
  const scale = max > 0 ? max / 32767 : 1;
  const idxBytes: number[] = [];
  const vals: number[] = [];
  let last = 0;
  let count = 0;
  for (let i = 0; i < w.length; i++) {
    const v = w[i] as number;
    if (Math.abs(v) <= minAbs) continue;
    const q = Math.round(v / scale);
    if (q === 0) continue;
    let d = i - last;
    last = i;
    while (d >= 0x80) {
      idxBytes.push((d & 0x7f) | 0x80);
      d >>>= 7;
    }
    idxBytes.push(d);
    vals.push(q);
    count++;
  }
  const vb = Buffer.alloc(vals.length * 2);
  vals.forEach((q, i) => vb.writeInt16LE(q, i * 2));
  return {
    encoding: 'sparse-q16-delta-varint-base64',
    count,
    scale,
    indices: Buffer.from(idxBytes).toString('base64'),
    values: vb.toString('base64'),
  };
}

export function dequantizeWeights(s: SerializedWeights, dim: number): Float32Array {
  if (s.encoding !== 'sparse-q16-delta-varint-base64') throw new Error(`prompt-guard: unknown weight encoding ${String(s.encoding)}`);
  const w = new Float32Array(dim);
  const ib = Buffer.from(s.indices, 'base64');
  const vb = Buffer.from(s.values, 'base64');
  if (vb.length !== s.count * 2) throw new Error('prompt-guard: corrupt weights (value count)');
  let pos = 0;
  let idx = 0;
  for (let k = 0; k < s.count; k++) {
    let d = 0;
    let shift = 0;
    for (;;) {
      if (pos >= ib.length) throw new Error('prompt-guard: corrupt weights (indices)');
      const byte = ib[pos++] as number;
      d |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    idx += d;
    if (idx >= dim) throw new Error('prompt-guard: corrupt weights (index out of range)');
    w[idx] = vb.readInt16LE(k * 2) * s.scale;
  }
  return w;
}

export function serializeModel(m: TrainedModel, extra: { training?: unknown; minAbs?: number } = {}): SerializedModel {
  return {
    format: 'bulwark-prompt-guard',
    version: m.version,
    features: m.features,
    bias: m.bias,
    calibration: m.calibration,
    threshold: m.threshold,
    ruleScore: m.ruleScore,
    cv: m.cv,
    training: extra.training,
    weights: quantizeWeights(m.weights, extra.minAbs ?? 0),
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deserializeModel(raw: unknown): TrainedModel {
  if (!isObj(raw) || raw.format !== 'bulwark-prompt-guard') throw new Error('prompt-guard: not a bulwark-prompt-guard model file');
  const f = raw.features;
  const c = raw.calibration;
  const w = raw.weights;
  if (!isObj(f) || !isObj(c) || !isObj(w)) throw new Error('prompt-guard: model file is missing fields');
  const num = (o: Record<string, unknown>, k: string): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`prompt-guard: model field ${k} is not a number`);
    return v;
  };
  const features: FeatureConfig = {
    bits: num(f, 'bits'),
    charMin: num(f, 'charMin'),
    charMax: num(f, 'charMax'),
    wordScale: num(f, 'wordScale'),
    charScale: num(f, 'charScale'),
    metaScale: num(f, 'metaScale'),
    chunkChars: num(f, 'chunkChars'),
  };
  if (!Number.isInteger(features.bits) || features.bits < 10 || features.bits > 24) throw new Error('prompt-guard: bad feature bits');
  if (typeof w.indices !== 'string' || typeof w.values !== 'string' || w.encoding !== 'sparse-q16-delta-varint-base64') {
    throw new Error('prompt-guard: bad weights');
  }
  const weights = dequantizeWeights(
    { encoding: 'sparse-q16-delta-varint-base64', count: num(w, 'count'), scale: num(w, 'scale'), indices: w.indices, values: w.values },
    1 << features.bits,
  );
  return {
    version: typeof raw.version === 'string' ? raw.version : 'unknown',
    features,
    bias: num(raw, 'bias'),
    weights,
    calibration: { a: num(c, 'a'), b: num(c, 'b') },
    threshold: num(raw, 'threshold'),
    ruleScore: num(raw, 'ruleScore'),
    cv: raw.cv,
  };
}
