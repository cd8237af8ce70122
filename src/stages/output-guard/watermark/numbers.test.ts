import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { vectorMatchesClient, watermarkVector } from './numbers.js';
import { seededRandom } from '../../../util/seeded-random.js';

const KEY = createHash('sha256').update('test-key:numbers').digest();
const INPUT = 'The quick brown fox jumps over the lazy dog.';

const rng = seededRandom;

/** A random unit vector of `dim` values, like an embedding. */
function unitVector(dim: number, seed: number): number[] {
  const r = rng(seed);
  const v = Array.from({ length: dim }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

describe('numeric watermark', () => {
  const v = unitVector(1536, 1);

  it('is deterministic per client and input, different across clients and inputs', () => {
    const a1 = watermarkVector(v, { key: KEY, clientId: 'alice', input: INPUT });
    const a2 = watermarkVector(v, { key: KEY, clientId: 'alice', input: INPUT });
    assert.deepEqual(a1, a2, 'averaging repeated queries gives back the same marked vector');
    const b = watermarkVector(v, { key: KEY, clientId: 'bob', input: INPUT });
    const a3 = watermarkVector(v, { key: KEY, clientId: 'alice', input: INPUT + ' ' });
    const diff = (x: number[], y: number[]) => x.filter((e, i) => e !== y[i]).length;
    assert.ok(diff(a1, b) > 1400, `clients differ in ${diff(a1, b)} of 1536 values`);
    assert.ok(diff(a1, a3) > 1400, 'inputs differ');
    assert.ok(a1.every((x) => Math.abs(x * 1e6 - Math.round(x * 1e6)) < 1e-6), 'whole millionths: at most 6 decimals in JSON');
  });

  it('changes each value by at most 1e-4 and keeps cosine similarity > 0.9999 (1536-dim unit vectors)', (t) => {
    let maxDelta = 0;
    let sumDelta = 0;
    let minCos = 1;
    let sumCos = 0;
    const runs = 50;
    for (let s = 0; s < runs; s++) {
      const x = unitVector(1536, 100 + s);
      const y = watermarkVector(x, { key: KEY, clientId: `client-${s}`, input: `input ${s}` });
      for (let i = 0; i < x.length; i++) {
        const d = Math.abs(y[i]! - x[i]!);
        maxDelta = Math.max(maxDelta, d);
        sumDelta += d;
      }
      const c = cosine(x, y);
      minCos = Math.min(minCos, c);
      sumCos += c;
    }
    const meanDelta = sumDelta / (runs * 1536);
    t.diagnostic(`accuracy cost over ${runs} random 1536-dim unit vectors: mean |delta| ${meanDelta.toExponential(3)}, max |delta| ${maxDelta.toExponential(3)}, mean cosine ${(sumCos / runs).toFixed(9)}, min cosine ${minCos.toFixed(9)} (1 - cos ≈ ${(1 - sumCos / runs).toExponential(2)})`);
    assert.ok(maxDelta <= 1e-4, `max delta ${maxDelta}`);
    assert.ok(minCos > 0.9999, `min cosine ${minCos}`);
  });

  it('vectorMatchesClient picks the right client out of 20 others on a 1536-dim vector', () => {
    const marked = watermarkVector(v, { key: KEY, clientId: 'alice', input: INPUT });
    const right = vectorMatchesClient(marked, { key: KEY, clientId: 'alice', input: INPUT });
    assert.equal(right.match, true);
    assert.ok(right.score > 0.99, `score ${right.score}`);
    assert.ok(right.log10FalseMatch < -400);
    for (let i = 0; i < 20; i++) {
      const other = vectorMatchesClient(marked, { key: KEY, clientId: `client-${i}`, input: INPUT });
      assert.equal(other.match, false, `client-${i}`);
      assert.ok(Math.abs(other.score) < 0.15, `client-${i} score ${other.score}`);
    }
    // Without the right input or key, or on an unmarked vector, nobody matches.
    assert.equal(vectorMatchesClient(marked, { key: KEY, clientId: 'alice', input: 'another text' }).match, false);
    assert.equal(vectorMatchesClient(marked, { key: createHash('sha256').update('x').digest(), clientId: 'alice', input: INPUT }).match, false);
    assert.equal(vectorMatchesClient(v, { key: KEY, clientId: 'alice', input: INPUT }).match, false, 'raw vector');
    const rounded = v.map((x) => Math.round(x * 1e4) / 1e4);
    const r = vectorMatchesClient(rounded, { key: KEY, clientId: 'alice', input: INPUT });
    assert.equal(r.match, false, 'rounding to 4 decimals removes the mark');
    assert.equal(r.compared, 0);
  });

  it('short vectors cannot identify alone; clamping keeps logprobs non-positive; non-finite values pass through', () => {
    const logprobs = [0, -0.00001, -0.12, -2.5, -7.25];
    const marked = watermarkVector(logprobs, { key: KEY, clientId: 'alice', input: INPUT, clamp: { max: 0 } });
    assert.ok(marked.every((x) => x <= 0));
    assert.ok(marked.every((x, i) => Math.abs(x - logprobs[i]!) <= 1e-4));
    assert.equal(vectorMatchesClient(marked, { key: KEY, clientId: 'alice', input: INPUT }).match, false, '5 values are too few bits');
    assert.deepEqual(watermarkVector([NaN, Infinity, -Infinity], { key: KEY, clientId: 'a', input: '' }), [NaN, Infinity, -Infinity]);
    assert.deepEqual(watermarkVector([], { key: KEY, clientId: 'a', input: '' }), []);
  });
});
