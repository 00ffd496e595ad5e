import { softVoteReference } from '@tta/native/reference';
import { seededRandom } from '@tta/util';
import { fitLearnedWeights, mergeLearned, minimizeLbfgs, outOfFoldLearnedMerge } from '../src/learned';
import { classificationMetrics } from '../src/metrics';

/** Probabilities [n, K] from logits: the true class gets `signal`, every class Gaussian-ish noise. */
function view(truth: Int32Array, K: number, signal: number, noise: number, random: () => number): Float32Array {
  const out = new Float32Array(truth.length * K);
  truth.forEach((t, i) => {
    const logits = Array.from({ length: K }, (_, k) => (k === t ? signal : 0) + noise * (random() + random() - 1));
    const max = Math.max(...logits);
    const sum = logits.reduce((a, z) => a + Math.exp(z - max), 0);
    logits.forEach((z, k) => (out[i * K + k] = Math.exp(z - max) / sum));
  });
  return out;
}

function stack(views: Float32Array[]): Float32Array {
  const out = new Float32Array(views.reduce((a, v) => a + v.length, 0));
  views.forEach((v, i) => out.set(v, i * v.length));
  return out;
}

function synthetic(n: number, K: number, seed: number) {
  const random = seededRandom(seed);
  const truth = Int32Array.from({ length: n }, () => Math.floor(random() * K));
  const good = view(truth, K, 2, 2, random);
  const weaker = view(truth, K, 1.2, 2, random);
  // Pure noise: independent of the truth.
  const noise = view(new Int32Array(n), K, 0, 4, random);
  return { truth, views: [good, weaker, noise] };
}

const nllOf = (scores: Float32Array, labels: Int32Array, truth: Int32Array, K: number) =>
  classificationMetrics(scores, labels, truth, K).nll;

describe('fitLearnedWeights', () => {
  test('a view that is pure noise gets a weight near 0, and the fit beats uniform weights', () => {
    const K = 5;
    const n = 3000;
    const { truth, views } = synthetic(n, K, 1);
    const fit = fitLearnedWeights(stack(views), [3, n, K], truth);
    expect(fit.shape).toBe('view');
    expect(fit.weights).toHaveLength(3);
    expect(fit.weights.reduce((a, w) => a + w, 0)).toBeCloseTo(1, 12);
    expect(fit.weights[2]).toBeLessThan(0.03);
    expect(fit.weights[0]).toBeGreaterThan(fit.weights[1]!);
    expect(fit.nll).toBeLessThan(fit.uniformNll - 0.05);
    // The reported NLL is that of the merge the weights give.
    const merged = mergeLearned(stack(views), [3, n, K], fit);
    expect(nllOf(merged.scores, merged.labels, truth, K)).toBeCloseTo(fit.nll, 4);
  });

  test('two views: the fitted weight is the minimum of a fine grid search of the NLL', () => {
    const K = 4;
    const n = 1500;
    const { truth, views } = synthetic(n, K, 2);
    const predictions = stack([views[0]!, views[1]!]);
    const fit = fitLearnedWeights(predictions, [2, n, K], truth);
    let best = { a: 0, nll: Infinity };
    for (let step = 0; step <= 1000; step++) {
      const a = step / 1000;
      const m = mergeLearned(predictions, [2, n, K], { shape: 'view', weights: [a, 1 - a] });
      const nll = nllOf(m.scores, m.labels, truth, K);
      if (nll < best.nll) best = { a, nll };
    }
    expect(Math.abs(fit.weights[0]! - best.a)).toBeLessThan(0.002);
    expect(fit.nll).toBeLessThanOrEqual(best.nll + 1e-6);
  });

  test('per view x class: the noise view is near 0 for every class; a strong L2 keeps weights uniform', () => {
    const K = 4;
    const n = 3000;
    const { truth, views } = synthetic(n, K, 3);
    const fit = fitLearnedWeights(stack(views), [3, n, K], truth, { shape: 'view-class' });
    expect(fit.weights).toHaveLength(3 * K);
    for (let k = 0; k < K; k++) {
      expect(fit.weights[0 * K + k]! + fit.weights[1 * K + k]! + fit.weights[2 * K + k]!).toBeCloseTo(1, 12);
      expect(fit.weights[2 * K + k]).toBeLessThan(0.1);
    }
    const flat = fitLearnedWeights(stack(views), [3, n, K], truth, { shape: 'view-class', l2: 1e4 });
    for (const w of flat.weights) expect(w).toBeCloseTo(1 / 3, 3);
  });

  test('deterministic: the same data give the same weights', () => {
    const { truth, views } = synthetic(800, 3, 4);
    const a = fitLearnedWeights(stack(views), [3, 800, 3], truth, { shape: 'view-class' });
    const b = fitLearnedWeights(stack(views), [3, 800, 3], truth, { shape: 'view-class' });
    expect(b.weights).toEqual(a.weights);
  });

  test('bad input names the parameter', () => {
    const p = new Float32Array(2 * 3 * 2).fill(0.5);
    expect(() => fitLearnedWeights(p, [2, 3, 2], [0, 1])).toThrow(/truth/);
    expect(() => fitLearnedWeights(p, [2, 3, 2], [0, 1, 2])).toThrow(/truth\[2\]/);
    expect(() => fitLearnedWeights(p, [2, 4, 2], [0, 1, 1, 0])).toThrow(/predictions/);
    expect(() => fitLearnedWeights(p, [2, 3, 2], [0, 1, 1], { l2: -1 })).toThrow(/l2/);
    expect(() => fitLearnedWeights(p, [2, 3, 2], [0, 1, 1], { shape: 'class' as never })).toThrow(/shape/);
    const nan = p.slice();
    nan[5] = NaN;
    expect(() => fitLearnedWeights(nan, [2, 3, 2], [0, 1, 1])).toThrow(/predictions\[5\]/);
  });
});

describe('mergeLearned', () => {
  test('uniform weights per view are the normalised geometric mean (softVote gmean)', () => {
    const { views } = synthetic(50, 4, 5);
    const predictions = stack(views);
    const learned = mergeLearned(predictions, [3, 50, 4], { shape: 'view', weights: [1 / 3, 1 / 3, 1 / 3] });
    const gmean = softVoteReference(predictions, [3, 50, 4], { merge: 'gmean' });
    for (let i = 0; i < 50; i++) {
      const row = gmean.scores.subarray(i * 4, i * 4 + 4);
      const sum = row.reduce((a, v) => a + v, 0);
      for (let k = 0; k < 4; k++) expect(learned.scores[i * 4 + k]).toBeCloseTo(row[k]! / sum, 5);
    }
    expect(Array.from(learned.labels)).toEqual(Array.from(gmean.labels));
  });

  test('a one-hot weighting returns that view', () => {
    const { views } = synthetic(20, 3, 6);
    const m = mergeLearned(stack(views), [3, 20, 3], { shape: 'view', weights: [0, 1, 0] });
    for (let j = 0; j < 60; j++) expect(m.scores[j]).toBeCloseTo(views[1]![j]!, 5);
  });

  test('saved weights that do not fit the views are refused by name', () => {
    const p = new Float32Array(2 * 3 * 2).fill(0.5);
    expect(() => mergeLearned(p, [2, 3, 2], { shape: 'view', weights: [1] })).toThrow(/2 weights \(one per view\)/);
    expect(() => mergeLearned(p, [2, 3, 2], { shape: 'view-class', weights: [1, 0, 0] })).toThrow(
      /4 weights \(2 views x 2 classes\)/,
    );
    expect(() => mergeLearned(p, [2, 3, 2], { shape: 'view', weights: [1, -1] })).toThrow(/learned.weights/);
  });
});

test('outOfFoldLearnedMerge: seeded, and no better than the in-sample fit', () => {
  const K = 4;
  const n = 1000;
  const { truth, views } = synthetic(n, K, 7);
  const predictions = stack(views);
  const oof = outOfFoldLearnedMerge(predictions, [3, n, K], truth, { folds: 4, seed: 1 });
  // The split is seeded: the same seed gives the same scores.
  const again = outOfFoldLearnedMerge(predictions, [3, n, K], truth, { folds: 4, seed: 1 });
  expect(again.scores).toEqual(oof.scores);
  const inSample = mergeLearned(predictions, [3, n, K], fitLearnedWeights(predictions, [3, n, K], truth));
  const oofNll = nllOf(oof.scores, oof.labels, truth, K);
  const inNll = nllOf(inSample.scores, inSample.labels, truth, K);
  // Out of fold is honest: no better than in-sample, and close to it with 3 parameters.
  expect(oofNll).toBeGreaterThanOrEqual(inNll - 1e-9);
  expect(oofNll - inNll).toBeLessThan(0.01);
});

test('minimizeLbfgs finds the minimum of an ill-conditioned quadratic', () => {
  const scales = [1, 100, 0.01];
  const f = (x: Float64Array) => ({
    loss: x.reduce((a, v, i) => a + 0.5 * scales[i]! * (v - i) ** 2, 0),
    gradient: x.map((v, i) => scales[i]! * (v - i)),
  });
  const { x } = minimizeLbfgs(f, new Float64Array(3), { tolerance: 1e-10 });
  x.forEach((v, i) => expect(v).toBeCloseTo(i, 5));
});
