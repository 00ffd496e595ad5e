import { MERGE_MODES, softVote, softVoteAsync, type Merge } from '../lib/index';
import { softVoteReference } from '../lib/reference';
import { randomInt, rng } from './helpers';

function probabilities(random: () => number, views: number, n: number, classes: number): Float32Array {
  const p = new Float32Array(views * n * classes);
  for (let row = 0; row < views * n; row++) {
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += p[row * classes + k] = random() ** 3;
    for (let k = 0; k < classes; k++) p[row * classes + k]! /= sum;
  }
  return p;
}

function expectClose(actual: Float32Array, expected: Float32Array, rel = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Math.abs(a - e) > rel * Math.max(1e-30, Math.abs(e)) + 1e-37) throw new Error(`element ${i}: ${a} vs ${e}`);
  }
}

describe('softVote semantics (hand-worked)', () => {
  // 2 views, 1 image, 3 classes; dyadic values, so float32 sums are exact.
  const p = Float32Array.from([0.5, 0.25, 0.25, 0.125, 0.625, 0.25]);
  const shape = [2, 1, 3] as const;

  test('mean, sum, gmean, max', () => {
    const mean = softVote(p, shape);
    expect(Array.from(mean.scores)).toEqual([0.3125, 0.4375, 0.25]);
    expect(mean.labels[0]).toBe(1);
    expect(Array.from(softVote(p, shape, { merge: 'sum' }).scores)).toEqual([0.625, 0.875, 0.5]);
    expect(Array.from(softVote(p, shape, { merge: 'max' }).scores)).toEqual([0.5, 0.625, 0.25]);
    const g = softVote(p, shape, { merge: 'gmean' }).scores;
    expect(g[0]).toBeCloseTo(Math.sqrt(0.5 * 0.125), 6);
    expect(g[1]).toBeCloseTo(Math.sqrt(0.25 * 0.625), 6);
    expect(g[2]).toBeCloseTo(0.25, 6);
  });

  test('weights: mean is sum(w p) / sum(w); weight 0 leaves a view out', () => {
    const r = softVote(p, shape, { weights: [3, 1] });
    expect(Array.from(r.scores)).toEqual([(3 * 0.5 + 0.125) / 4, (3 * 0.25 + 0.625) / 4, 0.25]);
    expect(r.labels[0]).toBe(0);
    expect(Array.from(softVote(p, shape, { weights: [0, 2], merge: 'max' }).scores)).toEqual([0.125, 0.625, 0.25]);
    const g = softVote(p, shape, { weights: [1, 0], merge: 'gmean' }).scores;
    [0.5, 0.25, 0.25].forEach((e, k) => expect(g[k]).toBeCloseTo(e, 6));
  });

  test('gmean of a zero probability is 0', () => {
    const z = Float32Array.from([0, 0.5, 0.5, 0.5, 0.5, 0]);
    expect(Array.from(softVote(z, shape, { merge: 'gmean' }).scores)).toEqual([0, 0.5, 0]);
  });

  test('vote is the weighted share of views; ties go to the higher mean probability', () => {
    // View argmaxes are 0 and 1: a 0.5/0.5 tie, won by class 1's higher mean probability (0.4375 > 0.3125).
    const r = softVote(p, shape, { merge: 'vote' });
    expect(Array.from(r.scores)).toEqual([0.5, 0.5, 0]);
    expect(r.labels[0]).toBe(1);
    const weighted = softVote(p, shape, { merge: 'vote', weights: [2, 1] });
    expect(weighted.scores[0]).toBeCloseTo(2 / 3, 6);
    expect(weighted.labels[0]).toBe(0);
  });

  test('argmax ties go to the lower class index', () => {
    expect(softVote(Float32Array.from([0.25, 0.5, 0.5, 0.25, 0.5, 0.5]), shape).labels[0]).toBe(1);
    // Per-view argmax ties too: view 0 votes class 1 (not 2), view 1 votes class 0 (not 2); then the
    // 0/1 tie has equal mean probabilities, so the lower index wins.
    const r = softVote(Float32Array.from([0.25, 0.375, 0.375, 0.375, 0.25, 0.375]), shape, { merge: 'vote' });
    expect(Array.from(r.scores)).toEqual([0.5, 0.5, 0]);
    expect(r.labels[0]).toBe(0);
  });

  test('writes into out and labels when given', () => {
    const out = new Float32Array(3);
    const labels = new Int32Array(1);
    const r = softVote(p, shape, { out, labels });
    expect(r.scores).toBe(out);
    expect(r.labels).toBe(labels);
    expect(labels[0]).toBe(1);
  });

  test('an empty batch is fine', () => {
    const r = softVote(new Float32Array(0), [3, 0, 10]);
    expect(r.scores.length).toBe(0);
    expect(r.labels.length).toBe(0);
  });
});

describe('softVote against the TS reference', () => {
  test('random shapes, merges, weights and thread counts', () => {
    const random = rng(42);
    for (let trial = 0; trial < 80; trial++) {
      const V = randomInt(random, 1, 9);
      const N = randomInt(random, 1, 60);
      const K = randomInt(random, 1, 30);
      const merge = MERGE_MODES[trial % MERGE_MODES.length]! as Merge;
      const p = probabilities(random, V, N, K);
      const weights =
        random() < 0.5 ? undefined : Array.from({ length: V }, (_, v) => (v === 0 ? 1 : randomInt(random, 0, 3)));
      const options = { merge, weights, threads: randomInt(random, 1, 4) };
      const native = softVote(p, [V, N, K], options);
      const reference = softVoteReference(p, [V, N, K], options);
      expectClose(native.scores, reference.scores, merge === 'gmean' ? 1e-6 : 0);
      expect(Array.from(native.labels)).toEqual(Array.from(reference.labels));
    }
  });

  test('many images per thread (merged in blocks of about 2048 values) still match the reference', () => {
    const random = rng(11);
    for (const [V, N, K] of [
      [3, 5000, 1],
      [4, 1500, 3],
      [2, 700, 7],
    ] as const) {
      const p = probabilities(random, V, N, K);
      for (const merge of MERGE_MODES) {
        const options = { merge: merge as Merge, weights: [1, 2, 0, 1].slice(0, V), threads: 2 };
        const native = softVote(p, [V, N, K], options);
        const reference = softVoteReference(p, [V, N, K], options);
        expectClose(native.scores, reference.scores, merge === 'gmean' ? 1e-6 : 0);
        expect(Array.from(native.labels)).toEqual(Array.from(reference.labels));
      }
      // The first bad value is found wherever it is: the last image of the last view.
      const bad = p.slice();
      bad[bad.length - 1] = Number.POSITIVE_INFINITY;
      expect(() => softVote(bad, [V, N, K], { threads: 2 })).toThrow(
        new RegExp(`index ${bad.length - 1} \\(view ${V - 1}, image ${N - 1}, class ${K - 1}\\)`),
      );
    }
  });

  test('large inputs: all threads agree with one thread', () => {
    const random = rng(3);
    const p = probabilities(random, 8, 3000, 100);
    for (const merge of MERGE_MODES) {
      const one = softVote(p, [8, 3000, 100], { merge, threads: 1 });
      const many = softVote(p, [8, 3000, 100], { merge, threads: 7 });
      expect(Array.from(many.scores)).toEqual(Array.from(one.scores));
      expect(Array.from(many.labels)).toEqual(Array.from(one.labels));
    }
  });

  test('softVoteAsync equals softVote', async () => {
    const p = probabilities(rng(8), 5, 500, 10);
    const sync = softVote(p, [5, 500, 10], { merge: 'gmean' });
    const async = await softVoteAsync(p, [5, 500, 10], { merge: 'gmean' });
    expect(Array.from(async.scores)).toEqual(Array.from(sync.scores));
    expect(Array.from(async.labels)).toEqual(Array.from(sync.labels));
  });
});
