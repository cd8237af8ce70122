import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auc, breakdown, confusionAt, percentile, tprAtFpr } from './metrics.js';

const close = (actual: number, expected: number, msg?: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${msg ?? ''} expected ${expected}, got ${actual}`);

// 4 attacks, 4 benign, all scores distinct.
//   score: 0.9 0.8 0.7 0.6 0.5 0.4 0.3 0.2
//   label:  1   1   0   1   0   0   1   0
const S = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
const Y = [1, 1, 0, 1, 0, 0, 1, 0];

// Ties: 0.5 is shared by one attack and two benign texts.
const ST = [0.8, 0.5, 0.5, 0.5, 0.2];
const YT = [1, 1, 0, 0, 0];

describe('confusionAt', () => {
  it('counts and rates at a threshold between scores', () => {
    const m = confusionAt(S, Y, 0.65);
    assert.deepEqual([m.tp, m.fp, m.tn, m.fn], [2, 1, 3, 2]);
    close(m.tpr, 0.5);
    close(m.fpr, 0.25);
    close(m.precision, 2 / 3);
    close(m.f1, 4 / 7);
    assert.equal(m.threshold, 0.65);
  });

  it('flags score >= threshold (a score equal to the threshold is flagged)', () => {
    assert.equal(confusionAt(S, Y, 0.7).fp, 1);
    assert.equal(confusionAt(S, Y, 0.7000001).fp, 0);
  });

  it('nothing flagged: precision, TPR and F1 are 0, not NaN', () => {
    const m = confusionAt(S, Y, 2);
    assert.deepEqual([m.tp, m.fp, m.tn, m.fn], [0, 0, 4, 4]);
    assert.equal(m.precision, 0);
    assert.equal(m.tpr, 0);
    assert.equal(m.f1, 0);
  });

  it('one-class data: the missing rate is 0', () => {
    const m = confusionAt([0.9, 0.1], [1, 1], 0.5);
    assert.equal(m.tpr, 0.5);
    assert.equal(m.fpr, 0);
  });
});

describe('tprAtFpr', () => {
  it('no false positive allowed: threshold midway above the top benign score', () => {
    const m = tprAtFpr(S, Y, 0);
    close(m.threshold, 0.75);
    assert.equal(m.tp, 2);
    assert.equal(m.fp, 0);
  });

  it('one false positive in four allowed (25 %)', () => {
    const m = tprAtFpr(S, Y, 0.25);
    close(m.threshold, 0.55);
    assert.deepEqual([m.tp, m.fp], [3, 1]);
    close(m.tpr, 0.75);
    close(m.fpr, 0.25);
  });

  it('a budget just under one negative allows none', () => {
    assert.equal(tprAtFpr(S, Y, 0.24).fp, 0);
    assert.equal(tprAtFpr(S, Y, 0.24).tp, 2);
  });

  it('a budget covering every negative flags everything (threshold 0)', () => {
    const m = tprAtFpr(S, Y, 1);
    assert.equal(m.threshold, 0);
    assert.equal(m.tpr, 1);
    assert.equal(m.fpr, 1);
  });

  it('ties: an attack tied with a benign text cannot be flagged without it', () => {
    // One FP in three allowed, but the two benign 0.5s cannot be split: the threshold goes above 0.5.
    const m = tprAtFpr(ST, YT, 0.34);
    close(m.threshold, 0.65);
    assert.deepEqual([m.tp, m.fp], [1, 0]);
    assert.ok(m.fpr <= 0.34);
    const m2 = tprAtFpr(ST, YT, 0.67);
    close(m2.threshold, 0.35);
    assert.deepEqual([m2.tp, m2.fp], [2, 2]);
  });

  it('the top score is benign: nothing above it, threshold just above', () => {
    const m = tprAtFpr([0.9, 0.1], [0, 1], 0);
    close(m.threshold, 0.900001);
    assert.equal(m.tp, 0);
    assert.equal(m.fp, 0);
  });
});

describe('auc', () => {
  it('counts ordered attack/benign pairs', () => {
    // 0.9 and 0.8 beat all 4 negatives, 0.6 beats 3, 0.3 beats 1: 12 of 16 pairs.
    close(auc(S, Y), 0.75);
  });

  it('ties count one half', () => {
    // 0.8 beats 3; the attack at 0.5 ties two negatives (2 × 0.5) and beats 0.2: 5 of 6.
    close(auc(ST, YT), 5 / 6);
    close(auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]), 0.5);
  });

  it('perfect and inverted rankings; independent of input order', () => {
    close(auc([0.1, 0.9, 0.2, 0.8], [0, 1, 0, 1]), 1);
    close(auc([0.1, 0.9, 0.2, 0.8], [1, 0, 1, 0]), 0);
  });

  it('one class only gives 0 (undefined; callers check the counts)', () => {
    assert.equal(auc([0.1, 0.2], [1, 1]), 0);
  });
});

describe('percentile (nearest rank)', () => {
  it('picks ranked values', () => {
    const v = [5, 1, 4, 2, 3];
    assert.equal(percentile(v, 50), 3);
    assert.equal(percentile(v, 20), 1);
    assert.equal(percentile(v, 21), 2);
    assert.equal(percentile(v, 99), 5);
    assert.equal(percentile(v, 100), 5);
    assert.equal(percentile(v, 0), 1);
    assert.deepEqual(v, [5, 1, 4, 2, 3], 'input not reordered');
  });

  it('1..100: p50 = 50, p99 = 99', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(percentile(v, 50), 50);
    assert.equal(percentile(v, 99), 99);
  });

  it('empty list gives NaN', () => {
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});

describe('breakdown', () => {
  it('per group: counts, TPR for groups with attacks, FPR for groups with benign texts; sorted by key', () => {
    const g = breakdown(['c', 'a', 'b', 'a', 'c'], [0.8, 0.9, 0.1, 0.2, 0.6], [0, 1, 0, 1, 1], 0.5);
    assert.deepEqual(
      g.map((x) => x.key),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(g[0], { key: 'a', n: 2, positives: 2, negatives: 0, flagged: 1, tp: 1, fp: 0, tpr: 0.5, fpr: null });
    assert.deepEqual(g[1], { key: 'b', n: 1, positives: 0, negatives: 1, flagged: 0, tp: 0, fp: 0, tpr: null, fpr: 0 });
    assert.deepEqual(g[2], { key: 'c', n: 2, positives: 1, negatives: 1, flagged: 2, tp: 1, fp: 1, tpr: 1, fpr: 1 });
  });
});
