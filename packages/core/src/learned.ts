// Learned aggregation of views (Shanmugam et al., ICCV 2021): log-linear pooling,
//   merged log p_k = sum_v w_vk log p_vk, renormalised by a softmax over classes,
// with weights w = softmax(theta) over the views (one weight per view, or one per view and
// class), so they stay positive and sum to 1. theta is fitted by L-BFGS on validation NLL,
// starting from uniform weights (theta = 0), with an L2 penalty pulling theta back to uniform.
// Everything is deterministic: same predictions and truth, same weights.
import { invalidParameterError, outOfRangeError, seededRandom, shuffleInPlace } from '@tta/util';
import { LOG_EPSILON, softmaxRows } from './calibration';

export const LEARNED_SHAPES = ['view', 'view-class'] as const;
export type LearnedShape = (typeof LEARNED_SHAPES)[number];

/** A fitted learned merge, as saved in a policy file. */
export interface LearnedWeights {
  shape: LearnedShape;
  /** 'view': one weight per view; 'view-class': views x classes, view-major. Each class's weights sum to 1. */
  weights: number[];
}

export interface LearnedFitOptions {
  shape?: LearnedShape;
  /** L2 penalty on theta (towards uniform weights). Default 0 for 'view', 1e-3 for 'view-class'. */
  l2?: number;
  /** L-BFGS iterations (default 200). */
  maxIterations?: number;
}

export interface LearnedFit extends LearnedWeights {
  /** Validation NLL of the merge at the fitted weights (penalty excluded), and at uniform weights. */
  nll: number;
  uniformNll: number;
  iterations: number;
}

/** Logs of [views, n, classes] probabilities, each row normalised and clipped at LOG_EPSILON. */
function viewLogs(predictions: Float32Array, V: number, n: number, K: number): Float64Array {
  const logs = new Float64Array(V * n * K);
  for (let r = 0; r < V * n; r++) {
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const p = predictions[r * K + k]!;
      if (!(p >= 0) || !Number.isFinite(p))
        throw outOfRangeError(`predictions[${r * K + k}]`, 'a finite probability >= 0', p);
      sum += p;
    }
    for (let k = 0; k < K; k++) {
      const p = sum > 0 ? predictions[r * K + k]! / sum : 1 / K;
      logs[r * K + k] = Math.log(Math.max(LOG_EPSILON, p));
    }
  }
  return logs;
}

function checkShape(predictions: Float32Array, shape: readonly [number, number, number]): void {
  const [V, n, K] = shape;
  for (const [name, value] of [
    ['views', V],
    ['images', n],
    ['classes', K],
  ] as const) {
    if (!Number.isInteger(value) || value < (name === 'images' ? 0 : 1))
      throw outOfRangeError(`shape (${name})`, name === 'images' ? 'an integer >= 0' : 'an integer >= 1', value);
  }
  if (!(predictions instanceof Float32Array) || predictions.length !== V * n * K)
    throw outOfRangeError('predictions', `a Float32Array of ${V * n * K} (${V} views x ${n} x ${K})`, predictions);
}

/** Checks saved weights against the views and classes they are applied to. */
export function checkLearnedWeights(
  learned: unknown,
  views: number,
  classes?: number,
  name = 'learned',
): LearnedWeights {
  if (typeof learned !== 'object' || learned === null) throw invalidParameterError(name, '{ shape, weights }', learned);
  const { shape, weights } = learned as Record<string, unknown>;
  if (!LEARNED_SHAPES.includes(shape as LearnedShape))
    throw invalidParameterError(`${name}.shape`, `one of ${LEARNED_SHAPES.join(', ')}`, shape);
  if (!Array.isArray(weights) || weights.some((w) => typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w)))
    throw invalidParameterError(`${name}.weights`, 'an array of finite non-negative numbers', weights);
  const expected = shape === 'view' ? views : classes === undefined ? undefined : views * classes;
  if (expected !== undefined && weights.length !== expected) {
    throw outOfRangeError(
      `${name}.weights`,
      shape === 'view'
        ? `${views} weights (one per view)`
        : `${expected} weights (${views} views x ${classes} classes)`,
      weights,
    );
  }
  if (shape === 'view-class' && (weights.length === 0 || weights.length % views !== 0))
    throw outOfRangeError(`${name}.weights`, `views x classes weights (a multiple of ${views})`, weights);
  return { shape: shape as LearnedShape, weights: weights as number[] };
}

/** Weight of view v for class k. */
function weightOf(learned: LearnedWeights, v: number, k: number, K: number): number {
  return learned.shape === 'view' ? learned.weights[v]! : learned.weights[v * K + k]!;
}

/** Merged log-likelihoods sum_v w_vk log p_vk, [n, classes]. */
function pooledLogits(logs: Float64Array, V: number, n: number, K: number, w: (v: number, k: number) => number) {
  const z = new Float64Array(n * K);
  for (let v = 0; v < V; v++) {
    for (let k = 0; k < K; k++) {
      const wvk = w(v, k);
      if (wvk === 0) continue;
      for (let i = 0; i < n; i++) z[i * K + k]! += wvk * logs[(v * n + i) * K + k]!;
    }
  }
  return z;
}

/**
 * Merges [views, n, classes] probabilities with learned weights: softmax over classes of
 * sum_v w_vk log p_vk. Labels are the first highest score.
 */
export function mergeLearned(
  predictions: Float32Array,
  shape: readonly [number, number, number],
  learned: LearnedWeights,
  out: Float32Array = new Float32Array(shape[1] * shape[2]),
  labels: Int32Array = new Int32Array(shape[1]),
): { scores: Float32Array; labels: Int32Array } {
  checkShape(predictions, shape);
  const [V, n, K] = shape;
  checkLearnedWeights(learned, V, K);
  if (out.length !== n * K) throw outOfRangeError('out', `a Float32Array of ${n * K}`, out);
  if (labels.length !== n) throw outOfRangeError('labels', `an Int32Array of ${n}`, labels);
  const z = pooledLogits(viewLogs(predictions, V, n, K), V, n, K, (v, k) => weightOf(learned, v, k, K));
  softmaxRows(z, K, 1, out);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (z[i * K + k]! > z[i * K + best]!) best = k;
    labels[i] = best;
  }
  return { scores: out, labels };
}

/** softmax over views of theta, per class for 'view-class' (theta view-major [V, K] or [V]). */
function weightsFromTheta(theta: Float64Array, V: number, columns: number): Float64Array {
  const w = new Float64Array(theta.length);
  for (let c = 0; c < columns; c++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, theta[v * columns + c]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += w[v * columns + c] = Math.exp(theta[v * columns + c]! - max);
    for (let v = 0; v < V; v++) w[v * columns + c]! /= sum;
  }
  return w;
}

/** Mean NLL of the pooled merge and its gradient with respect to the weights ([V, columns]). */
function nllAndWeightGradient(
  logs: Float64Array,
  truth: ArrayLike<number>,
  V: number,
  n: number,
  K: number,
  w: Float64Array,
  columns: number,
): { nll: number; gradient: Float64Array } {
  const z = pooledLogits(logs, V, n, K, (v, k) => w[v * columns + (columns === 1 ? 0 : k)]!);
  // residual r_ik = softmax(z_i)_k - [k = y_i]: d NLL_i / d z_ik.
  const r = new Float64Array(n * K);
  let nll = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, z[i * K + k]!);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(z[i * K + k]! - max);
    const logSum = max + Math.log(sum);
    const y = truth[i]!;
    nll += logSum - z[i * K + y]!;
    for (let k = 0; k < K; k++) r[i * K + k] = Math.exp(z[i * K + k]! - logSum) - (k === y ? 1 : 0);
  }
  const gradient = new Float64Array(V * columns);
  for (let v = 0; v < V; v++) {
    for (let i = 0; i < n; i++) {
      const base = (v * n + i) * K;
      for (let k = 0; k < K; k++) gradient[v * columns + (columns === 1 ? 0 : k)]! += r[i * K + k]! * logs[base + k]!;
    }
  }
  const scale = n > 0 ? 1 / n : 0;
  for (let j = 0; j < gradient.length; j++) gradient[j]! *= scale;
  return { nll: nll * scale, gradient };
}

/** Loss (NLL + l2/2 |theta|^2) and its gradient in theta, through the softmax over views. */
function objective(
  logs: Float64Array,
  truth: ArrayLike<number>,
  V: number,
  n: number,
  K: number,
  columns: number,
  l2: number,
): (theta: Float64Array) => { loss: number; gradient: Float64Array; nll: number } {
  return (theta) => {
    const w = weightsFromTheta(theta, V, columns);
    const { nll, gradient: gw } = nllAndWeightGradient(logs, truth, V, n, K, w, columns);
    const gradient = new Float64Array(theta.length);
    let penalty = 0;
    for (let c = 0; c < columns; c++) {
      let dot = 0;
      for (let v = 0; v < V; v++) dot += w[v * columns + c]! * gw[v * columns + c]!;
      for (let v = 0; v < V; v++) {
        const j = v * columns + c;
        gradient[j] = w[j]! * (gw[j]! - dot) + l2 * theta[j]!;
        penalty += 0.5 * l2 * theta[j]! ** 2;
      }
    }
    return { loss: nll + penalty, gradient, nll };
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Minimises f by L-BFGS (memory 10) with a backtracking Armijo line search, from x0.
 * Stops when the gradient's largest entry is below `tolerance` or the loss stops falling.
 */
export function minimizeLbfgs(
  f: (x: Float64Array) => { loss: number; gradient: Float64Array },
  x0: Float64Array,
  options: { maxIterations?: number; tolerance?: number; memory?: number } = {},
): { x: Float64Array; loss: number; iterations: number } {
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-7;
  const memory = options.memory ?? 10;
  let x = Float64Array.from(x0);
  let { loss, gradient } = f(x);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    if (Math.max(...gradient.map(Math.abs)) < tolerance) break;
    // Two-loop recursion: direction = -H g.
    const q = Float64Array.from(gradient);
    const alphas: number[] = [];
    for (let j = sList.length - 1; j >= 0; j--) {
      const rho = 1 / dot(yList[j]!, sList[j]!);
      const alpha = rho * dot(sList[j]!, q);
      alphas[j] = alpha;
      for (let i = 0; i < q.length; i++) q[i]! -= alpha * yList[j]![i]!;
    }
    const last = sList.length - 1;
    const gamma = last >= 0 ? dot(sList[last]!, yList[last]!) / dot(yList[last]!, yList[last]!) : 1;
    for (let i = 0; i < q.length; i++) q[i]! *= gamma;
    for (let j = 0; j < sList.length; j++) {
      const rho = 1 / dot(yList[j]!, sList[j]!);
      const beta = rho * dot(yList[j]!, q);
      for (let i = 0; i < q.length; i++) q[i]! += sList[j]![i]! * (alphas[j]! - beta);
    }
    let direction = q.map((v) => -v);
    let slope = dot(direction, gradient);
    if (!(slope < 0)) {
      // Not a descent direction (curvature lost): restart from steepest descent.
      sList.length = 0;
      yList.length = 0;
      direction = gradient.map((v) => -v);
      slope = dot(direction, gradient);
    }
    let step = 1;
    let next: { loss: number; gradient: Float64Array } | undefined;
    let xNext = x;
    for (let tries = 0; tries < 40; tries++) {
      xNext = x.map((v, i) => v + step * direction[i]!);
      next = f(xNext);
      if (next.loss <= loss + 1e-4 * step * slope) break;
      step /= 2;
      next = undefined;
    }
    if (!next) break; // no step lowers the loss: at the minimum up to rounding
    const s = xNext.map((v, i) => v - x[i]!);
    const y = next.gradient.map((v, i) => v - gradient[i]!);
    if (dot(s, y) > 1e-12) {
      sList.push(s);
      yList.push(y);
      if (sList.length > memory) {
        sList.shift();
        yList.shift();
      }
    }
    const improvement = loss - next.loss;
    x = xNext;
    loss = next.loss;
    gradient = next.gradient;
    if (improvement < 1e-12 * Math.max(1, Math.abs(loss))) {
      iterations++;
      break;
    }
  }
  return { x, loss, iterations };
}

/**
 * Fits learned merge weights to [views, n, classes] probabilities of validation images whose
 * true classes are `truth`, by minimising the NLL of the pooled merge.
 */
export function fitLearnedWeights(
  predictions: Float32Array,
  shape: readonly [number, number, number],
  truth: ArrayLike<number>,
  options: LearnedFitOptions = {},
): LearnedFit {
  checkShape(predictions, shape);
  const [V, n, K] = shape;
  if (n === 0) throw outOfRangeError('predictions', 'at least one image', predictions);
  if (truth === null || typeof truth !== 'object' || truth.length !== n)
    throw outOfRangeError('truth', `one class per image (${n})`, truth);
  for (let i = 0; i < n; i++) {
    const t = truth[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= K) throw outOfRangeError(`truth[${i}]`, `a class in [0, ${K})`, t);
  }
  const shapeName = options.shape ?? 'view';
  if (!LEARNED_SHAPES.includes(shapeName))
    throw invalidParameterError('shape', `one of ${LEARNED_SHAPES.join(', ')}`, shapeName);
  const l2 = options.l2 ?? (shapeName === 'view' ? 0 : 1e-3);
  if (typeof l2 !== 'number' || !(l2 >= 0) || !Number.isFinite(l2))
    throw outOfRangeError('l2', 'a finite number >= 0', l2);
  const maxIterations = options.maxIterations ?? 200;
  if (!Number.isInteger(maxIterations) || maxIterations < 0)
    throw outOfRangeError('maxIterations', 'an integer >= 0', maxIterations);
  const columns = shapeName === 'view' ? 1 : K;
  const logs = viewLogs(predictions, V, n, K);
  const f = objective(logs, truth, V, n, K, columns, l2);
  const start = new Float64Array(V * columns);
  const uniformNll = f(start).nll;
  const { x, iterations } = minimizeLbfgs(f, start, { maxIterations });
  const w = weightsFromTheta(x, V, columns);
  return { shape: shapeName, weights: Array.from(w), nll: f(x).nll, uniformNll, iterations };
}

/**
 * Out-of-fold merged scores: the images are split into `folds` seeded random folds; each fold
 * is merged with weights fitted on the other folds only. This scores a learned merge on
 * validation data without letting it see the images it is scored on.
 */
export function outOfFoldLearnedMerge(
  predictions: Float32Array,
  shape: readonly [number, number, number],
  truth: ArrayLike<number>,
  options: LearnedFitOptions & { folds?: number; seed?: number } = {},
): { scores: Float32Array; labels: Int32Array } {
  checkShape(predictions, shape);
  const [V, n, K] = shape;
  const folds = options.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 2 || folds > n)
    throw outOfRangeError('folds', `an integer between 2 and the number of images (${n})`, folds);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, seededRandom(options.seed ?? 0));
  const scores = new Float32Array(n * K);
  const labels = new Int32Array(n);
  for (let f = 0; f < folds; f++) {
    const held: number[] = [];
    const kept: number[] = [];
    order.forEach((i, position) => (position % folds === f ? held : kept).push(i));
    const fit = fitLearnedWeights(
      gatherRows(predictions, V, n, K, kept),
      [V, kept.length, K],
      gatherTruth(truth, kept),
      options,
    );
    const merged = mergeLearned(gatherRows(predictions, V, n, K, held), [V, held.length, K], fit);
    held.forEach((i, j) => {
      scores.set(merged.scores.subarray(j * K, (j + 1) * K), i * K);
      labels[i] = merged.labels[j]!;
    });
  }
  return { scores, labels };
}

function gatherRows(predictions: Float32Array, V: number, n: number, K: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(V * rows.length * K);
  for (let v = 0; v < V; v++) {
    rows.forEach((i, j) =>
      out.set(predictions.subarray((v * n + i) * K, (v * n + i + 1) * K), (v * rows.length + j) * K),
    );
  }
  return out;
}

function gatherTruth(truth: ArrayLike<number>, rows: readonly number[]): Int32Array {
  return Int32Array.from(rows, (i) => truth[i]!);
}
