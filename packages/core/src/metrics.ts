// Classification metrics on merged scores [n, classes]. Calibration metrics (NLL,
// ECE, Brier) use each row normalised to sum 1, since only 'mean' scores are
// probabilities as they stand ('sum', 'gmean', 'max', 'vote' are not).
import { outOfRangeError } from '@tta/util';

export interface ReliabilityBin {
  /** Confidence range (lo, hi]. */
  lo: number;
  hi: number;
  count: number;
  /** Mean confidence and accuracy of the images in the bin (NaN when empty). */
  confidence: number;
  accuracy: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  top5?: number;
  nll: number;
  ece: number;
  brier: number;
  perClass: number[];
  confusion: number[][];
  reliability: ReliabilityBin[];
}

const EPSILON = 1e-7; // Keras' clip for log(0) in cross-entropy

function checkShapes(scores: Float32Array, truth: ArrayLike<number>, classes: number): number {
  const n = truth.length;
  if (scores.length !== n * classes) throw outOfRangeError('scores', `length ${n * classes} (n x classes)`, scores);
  for (let i = 0; i < n; i++) {
    const t = truth[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= classes)
      throw outOfRangeError(`labels[${i}]`, `a class in [0, ${classes})`, t);
  }
  return n;
}

/** Row i of scores normalised to sum 1 (uniform when the row sums to 0). */
function normalisedRow(scores: Float32Array, i: number, classes: number, row: Float64Array): Float64Array {
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += scores[i * classes + k]!;
  for (let k = 0; k < classes; k++) row[k] = sum > 0 ? scores[i * classes + k]! / sum : 1 / classes;
  return row;
}

export function argmaxRows(scores: Float32Array, classes: number): Int32Array {
  const n = scores.length / classes;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (scores[i * classes + k]! > scores[i * classes + best]!) best = k;
    labels[i] = best;
  }
  return labels;
}

/** 1 where predicted equals truth. */
export function correctness(predicted: ArrayLike<number>, truth: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(truth.length);
  for (let i = 0; i < truth.length; i++) out[i] = predicted[i] === truth[i] ? 1 : 0;
  return out;
}

export function accuracy(predicted: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (truth.length === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) hits++;
  return hits / truth.length;
}

/** Fraction of images whose true class is among the k highest scores (ties count against). */
export function topKAccuracy(scores: Float32Array, truth: ArrayLike<number>, classes: number, k: number): number {
  const n = checkShapes(scores, truth, classes);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const t = scores[i * classes + truth[i]!]!;
    let above = 0;
    for (let j = 0; j < classes; j++) if (scores[i * classes + j]! > t) above++;
    if (above < k) hits++;
  }
  return n ? hits / n : NaN;
}

/** Equal-width confidence bins (lo, hi] of the top score, for ECE and reliability diagrams. */
export function reliabilityBins(
  scores: Float32Array,
  truth: ArrayLike<number>,
  classes: number,
  bins = 15,
): ReliabilityBin[] {
  const n = checkShapes(scores, truth, classes);
  const count = new Float64Array(bins),
    conf = new Float64Array(bins),
    hit = new Float64Array(bins);
  const row = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    normalisedRow(scores, i, classes, row);
    let best = 0;
    for (let k = 1; k < classes; k++) if (row[k]! > row[best]!) best = k;
    const confidence = row[best]!;
    // Confidence 0 goes to the first bin.
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
    count[b]!++;
    conf[b]! += confidence;
    if (best === truth[i]) hit[b]!++;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: count[b]!,
    confidence: count[b]! ? conf[b]! / count[b]! : NaN,
    accuracy: count[b]! ? hit[b]! / count[b]! : NaN,
  }));
}

function eceFromBins(bins: readonly ReliabilityBin[], n: number): number {
  return bins.reduce((ece, b) => (b.count ? ece + (b.count / n) * Math.abs(b.accuracy - b.confidence) : ece), 0);
}

/** Expected calibration error with equal-width confidence bins (15 by default). */
export function expectedCalibrationError(
  scores: Float32Array,
  truth: ArrayLike<number>,
  classes: number,
  bins = 15,
): number {
  return eceFromBins(reliabilityBins(scores, truth, classes, bins), truth.length);
}

export function classificationMetrics(
  scores: Float32Array,
  labels: ArrayLike<number>,
  truth: ArrayLike<number>,
  classes: number,
): ClassificationMetrics {
  const n = checkShapes(scores, truth, classes);
  const row = new Float64Array(classes);
  let nll = 0;
  let brier = 0;
  const perClassCount = new Array<number>(classes).fill(0);
  const perClassHit = new Array<number>(classes).fill(0);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < n; i++) {
    const t = truth[i]!;
    normalisedRow(scores, i, classes, row);
    nll -= Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, row[t]!)));
    for (let k = 0; k < classes; k++) brier += (row[k]! - (k === t ? 1 : 0)) ** 2;
    perClassCount[t]!++;
    if (labels[i] === t) perClassHit[t]!++;
    confusion[t]![labels[i]!]!++;
  }
  const metrics: ClassificationMetrics = {
    accuracy: accuracy(labels, truth),
    nll: nll / n,
    ece: NaN,
    brier: brier / n,
    perClass: perClassCount.map((c, k) => (c ? perClassHit[k]! / c : NaN)),
    confusion,
    reliability: [],
  };
  metrics.reliability = reliabilityBins(scores, truth, classes);
  metrics.ece = eceFromBins(metrics.reliability, n);
  if (classes > 5) metrics.top5 = topKAccuracy(scores, truth, classes, 5);
  return metrics;
}

export interface FlipCounts {
  /** Baseline right, policy wrong. */
  correctToWrong: number;
  /** Baseline wrong, policy right. */
  wrongToCorrect: number;
  perClass: { correctToWrong: number; wrongToCorrect: number }[];
}

export function flipCounts(
  baseCorrect: Uint8Array,
  ttaCorrect: Uint8Array,
  truth: ArrayLike<number>,
  classes: number,
): FlipCounts {
  const perClass = Array.from({ length: classes }, () => ({ correctToWrong: 0, wrongToCorrect: 0 }));
  let correctToWrong = 0;
  let wrongToCorrect = 0;
  for (let i = 0; i < truth.length; i++) {
    if (baseCorrect[i] && !ttaCorrect[i]) {
      correctToWrong++;
      perClass[truth[i]!]!.correctToWrong++;
    } else if (!baseCorrect[i] && ttaCorrect[i]) {
      wrongToCorrect++;
      perClass[truth[i]!]!.wrongToCorrect++;
    }
  }
  return { correctToWrong, wrongToCorrect, perClass };
}
