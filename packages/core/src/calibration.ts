// Temperature scaling (Guo et al. 2017): one scalar T fitted on validation NLL, applied as
// softmax(log p / T). It changes confidence, never the predicted class. Ashukha et al. (2020)
// show that NLL comparisons between methods mean little unless each is temperature-scaled first.
import { outOfRangeError } from '@tta/util';
import { expectedCalibrationError } from './metrics';

/** Smallest probability taken into a log (Keras' clip): a zero probability stays finite. */
export const LOG_EPSILON = 1e-7;

/** Temperatures searched (as 1/T, where NLL is convex); outside this a model is degenerate. */
const MIN_TEMPERATURE = 0.02;
const MAX_TEMPERATURE = 50;

export interface TemperatureFit {
  temperature: number;
  nllBefore: number;
  nllAfter: number;
  eceBefore: number;
  eceAfter: number;
}

function checkRows(scores: Float32Array, classes: number, name = 'scores'): number {
  if (!Number.isInteger(classes) || classes < 1) throw outOfRangeError('classes', 'an integer >= 1', classes);
  if (!(scores instanceof Float32Array) || scores.length % classes !== 0)
    throw outOfRangeError(name, `a Float32Array of n x ${classes} scores`, scores);
  return scores.length / classes;
}

function checkTemperature(temperature: number): void {
  if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature))
    throw outOfRangeError('temperature', 'a finite number > 0', temperature);
}

/** log of each row normalised to sum 1 (uniform for a row of zeros), clipped at LOG_EPSILON, as float64. */
export function logProbabilities(scores: Float32Array, classes: number): Float64Array {
  const n = checkRows(scores, classes);
  const out = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += scores[i * classes + k]!;
    for (let k = 0; k < classes; k++) {
      const p = sum > 0 ? scores[i * classes + k]! / sum : 1 / classes;
      out[i * classes + k] = Math.log(Math.max(LOG_EPSILON, p));
    }
  }
  return out;
}

/** Row-wise softmax of `logits` * `scale` into out (float32). */
export function softmaxRows(logits: Float64Array, classes: number, scale: number, out: Float32Array): Float32Array {
  const n = logits.length / classes;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[i * classes + k]! * scale);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[i * classes + k]! * scale - max);
    for (let k = 0; k < classes; k++) out[i * classes + k] = Math.exp(logits[i * classes + k]! * scale - max) / sum;
  }
  return out;
}

/** softmax(log p / T) per row: the scores a temperature-scaled policy gives. */
export function applyTemperature(
  scores: Float32Array,
  classes: number,
  temperature: number,
  out: Float32Array = new Float32Array(scores.length),
): Float32Array {
  checkTemperature(temperature);
  if (out.length !== scores.length) throw outOfRangeError('out', `a Float32Array of length ${scores.length}`, out);
  return softmaxRows(logProbabilities(scores, classes), classes, 1 / temperature, out);
}

/** Mean NLL of softmax(beta x logLik) for the true classes (beta = 1/T). */
function scaledNll(logits: Float64Array, truth: ArrayLike<number>, classes: number, beta: number): number {
  const n = truth.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, beta * logits[i * classes + k]!);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(beta * logits[i * classes + k]! - max);
    total += max + Math.log(sum) - beta * logits[i * classes + truth[i]!]!;
  }
  return n ? total / n : NaN;
}

function checkTruth(truth: ArrayLike<number>, n: number, classes: number): void {
  if (truth === null || typeof truth !== 'object' || truth.length !== n)
    throw outOfRangeError('truth', `one class per row (${n})`, truth);
  for (let i = 0; i < n; i++) {
    const t = truth[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= classes)
      throw outOfRangeError(`truth[${i}]`, `a class in [0, ${classes})`, t);
  }
}

/**
 * Fits one temperature to these (validation) scores by minimising their NLL. NLL is convex in
 * beta = 1/T, so a golden-section search over beta finds the minimum; it is deterministic.
 * ECE before and after uses the same 15 equal-width bins as classificationMetrics.
 */
export function fitTemperature(scores: Float32Array, truth: ArrayLike<number>, classes: number): TemperatureFit {
  const n = checkRows(scores, classes);
  checkTruth(truth, n, classes);
  if (n === 0) throw outOfRangeError('scores', 'at least one row', scores);
  const logits = logProbabilities(scores, classes);
  const f = (beta: number) => scaledNll(logits, truth, classes, beta);
  let lo = 1 / MAX_TEMPERATURE;
  let hi = 1 / MIN_TEMPERATURE;
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = hi - ratio * (hi - lo);
  let b = lo + ratio * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  while (hi - lo > 1e-6) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - ratio * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + ratio * (hi - lo);
      fb = f(b);
    }
  }
  const beta = (lo + hi) / 2;
  const scaled = softmaxRows(logits, classes, beta, new Float32Array(scores.length));
  return {
    temperature: 1 / beta,
    nllBefore: f(1),
    nllAfter: f(beta),
    eceBefore: expectedCalibrationError(scores, truth, classes),
    eceAfter: expectedCalibrationError(scaled, truth, classes),
  };
}
