// Evaluate several policies on one model, paired against its no-TTA baseline.
// Each distinct view is predicted once and shared by every policy that uses it,
// so adding a policy costs only the views it adds, plus a cheap merge.
import {
  forwardPasses,
  formatView,
  isIdentity,
  makePolicy,
  margins,
  usesFill,
  type Policy,
  type PolicyView,
} from './policies';
import { softVote, type Fill } from '@tta/native';
import { outOfRangeError, throwIfAborted } from '@tta/util';
import {
  applyPolicyTemperature,
  augmentViews,
  checkChunkSize,
  checkPolicyFits,
  checkPolicyMerge,
  mergeStacked,
  mergeViews,
  pixelOptions,
  type Classifier,
} from './engine';
import { checkImageShape, defaultChunkSize, toSource, type Images } from './images';
import {
  classificationMetrics,
  correctness,
  flipCounts,
  type ClassificationMetrics,
  type FlipCounts,
  type ReliabilityBin,
} from './metrics';
import { bootstrapLiftInterval, mcnemarExact, mean, std } from './stats';

export interface PolicyTiming {
  /** Seconds to predict this policy's views and merge them. */
  seconds: number;
  imagesPerSecond: number;
  /** Share of the time outside model inference (augment, vote, conversions). */
  otherShare: number;
  forwardPasses: number;
}

export interface PolicyRun {
  policy: Policy;
  scores: Float32Array;
  labels: Int32Array;
  metrics: ClassificationMetrics;
  correct: Uint8Array;
  lift: number;
  ci95: [number, number];
  mcnemarP: number;
  flips: FlipCounts;
  timing: PolicyTiming;
}

export interface ViewPredictions {
  key: string;
  view: PolicyView;
  fill: Policy['fill'];
  predictions: Float32Array; // [n, classes]
  inferenceSeconds: number;
  otherSeconds: number;
}

export interface EvaluateOptions {
  chunkSize?: number;
  bootstrapResamples?: number;
  seed?: number;
  /** After each chunk: images with every view predicted (`done` of at most `total`), and the view count. */
  onProgress?: (step: { done: number; total: number; views: number }) => void;
  threads?: number;
  signal?: AbortSignal;
}

/** Fill only matters for shifts and zooms below 1: 'id' and 'flip' share predictions across fills. */
export function viewKey(view: PolicyView, fill: Policy['fill']): string {
  return usesFill(view) ? `${formatView(view)}@${fill}` : formatView(view);
}

export interface PredictedViews {
  views: Map<string, ViewPredictions>;
  /** The source index of each prediction row (a stream may leave out images it could not read). */
  indices: Int32Array;
  /** Rows predicted. */
  count: number;
}

/**
 * Predicts each distinct view of the policies once, in one pass over the images: every chunk
 * is read once and predicted under each view, so a folder is decoded only once.
 */
export async function predictViews(
  classifier: Classifier,
  images: Images,
  policies: readonly Policy[],
  options: EvaluateOptions = {},
): Promise<PredictedViews> {
  const source = toSource(images);
  checkImageShape(source, classifier.inputShape);
  for (const p of policies) checkPolicyFits(p.views, source, classifier.inputShape);
  const wanted = new Map<string, { view: PolicyView; fill: Fill }>();
  for (const p of policies) for (const view of p.views) wanted.set(viewKey(view, p.fill), { view, fill: p.fill });
  // Views sharing a fill next to each other: one augment call per fill.
  const entries = [...wanted.entries()].sort((a, b) => (a[1].fill < b[1].fill ? -1 : a[1].fill > b[1].fill ? 1 : 0));
  const V = entries.length;
  const K = classifier.numClasses;
  const [h, w, c] = classifier.inputShape;
  const chunkSize = checkChunkSize(options.chunkSize, defaultChunkSize(h, w, c, V));
  const buffer = new Float32Array(V * Math.min(chunkSize, Math.max(1, source.count)) * h * w * c);
  const parts: Float32Array[][] = entries.map(() => []);
  const indices: Int32Array[] = [];
  let inference = 0;
  let other = 0;
  let n = 0;
  for await (const chunk of source.chunks(chunkSize, options.signal)) {
    throwIfAborted(options.signal);
    const m = chunk.count;
    if (m === 0) continue; // a stretch of a stream where no image could be read
    const t0 = performance.now();
    const input = buffer.subarray(0, V * m * h * w * c);
    augmentViews(
      chunk.images,
      [m, source.height, source.width, c],
      classifier.inputShape,
      entries.map(([, e]) => e),
      pixelOptions(classifier, chunk.images),
      input,
      options.threads,
    );
    const t1 = performance.now();
    const predictions = await classifier.predict(input, V * m);
    const t2 = performance.now();
    if (!(predictions instanceof Float32Array) || predictions.length !== V * m * K) {
      throw outOfRangeError(
        'classifier.predict()',
        `${V * m * K} probabilities (${V * m} images x ${K} classes)`,
        predictions,
      );
    }
    entries.forEach((_, v) => parts[v]!.push(predictions.slice(v * m * K, (v + 1) * m * K)));
    indices.push(Int32Array.from(chunk.indices));
    n += m;
    inference += (t2 - t1) / 1000;
    other += (t1 - t0 + performance.now() - t2) / 1000;
    options.onProgress?.({ done: n, total: source.count, views: V });
    // Predictions resolve on microtasks only: give signal handlers (Ctrl-C) a turn.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throwIfAborted(options.signal);
  const views = new Map<string, ViewPredictions>();
  entries.forEach(([key, { view, fill }], v) => {
    // Every view costs the same here (same images, same size): time is shared out evenly.
    views.set(key, {
      key,
      view,
      fill,
      predictions: concatFloat32(parts[v]!, n * K),
      inferenceSeconds: inference / V,
      otherSeconds: other / V,
    });
  });
  const all = new Int32Array(n);
  let offset = 0;
  for (const part of indices) {
    all.set(part, offset);
    offset += part.length;
  }
  return { views, indices: all, count: n };
}

function concatFloat32(parts: readonly Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Predicts each distinct view of the policies once (see predictViews). */
export async function predictDistinctViews(
  classifier: Classifier,
  images: Images,
  policies: readonly Policy[],
  options: EvaluateOptions = {},
): Promise<Map<string, ViewPredictions>> {
  return (await predictViews(classifier, images, policies, options)).views;
}

export interface MergedPolicy {
  scores: Float32Array;
  labels: Int32Array;
  /** Merge time in seconds. */
  seconds: number;
  /** For a gated policy: the share of images that got every view (else 1). */
  gatedFraction: number;
}

const IDENTITY: PolicyView = { flip: false, dx: 0, dy: 0 };

/** Merges a policy from shared per-view predictions (gating included), as predictWithTta would. */
export function mergeFromViews(
  policy: Policy,
  views: Map<string, ViewPredictions>,
  n: number,
  classes: number,
  /** The source index of each row (seeds a random policy's draws); default 0..n-1. */
  indices?: ArrayLike<number>,
): MergedPolicy {
  const lookup = (view: PolicyView): Float32Array => {
    const entry = views.get(viewKey(view, policy.fill));
    if (!entry) throw new Error(`No predictions for view ${viewKey(view, policy.fill)}`);
    return entry.predictions;
  };
  checkPolicyMerge(policy, classes);
  const t = performance.now();
  const V = policy.views.length;
  const scores = new Float32Array(n * classes);
  const labels = new Int32Array(n);
  let members: number[] | undefined;
  if (policy.gate) {
    const plain = lookup(IDENTITY);
    softVote(plain, [1, n, classes], { out: scores, labels });
    const margin = margins(plain, classes);
    members = [];
    for (let i = 0; i < n; i++) if (margin[i]! < policy.gate.margin) members.push(i);
  }
  const rows = members ?? null;
  const g = rows ? rows.length : n;
  const stacked = new Float32Array(V * g * classes);
  policy.views.forEach((view, v) => {
    const predictions = lookup(view);
    if (!rows) stacked.set(predictions, v * n * classes);
    else
      rows.forEach((i, j) => stacked.set(predictions.subarray(i * classes, (i + 1) * classes), (v * g + j) * classes));
  });
  if (!rows) {
    mergeViews(
      policy,
      stacked,
      [V, n, classes],
      indices ?? Int32Array.from({ length: n }, (_, i) => i),
      scores,
      labels,
    );
  } else if (g > 0) {
    const merged = mergeStacked(policy, stacked, [V, g, classes]);
    rows.forEach((i, j) => {
      scores.set(merged.scores.subarray(j * classes, (j + 1) * classes), i * classes);
      labels[i] = merged.labels[j]!;
    });
  }
  applyPolicyTemperature(policy, scores, classes);
  return { scores, labels, seconds: (performance.now() - t) / 1000, gatedFraction: rows ? g / Math.max(1, n) : 1 };
}

export interface Evaluation {
  baseline: PolicyRun;
  runs: PolicyRun[];
  views: Map<string, ViewPredictions>;
  /** The source index of each evaluated image (a stream may leave out images it could not read). */
  indices: Int32Array;
  /** The true class of each evaluated image, in the same order. */
  truth: Int32Array;
}

/**
 * Evaluates each policy and the no-TTA baseline on the same predictions, paired image by
 * image. `truth` holds the true class of every source image, by source index.
 */
export async function evaluatePolicies(
  classifier: Classifier,
  images: Images,
  truth: ArrayLike<number>,
  policies: readonly Policy[],
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  const source = toSource(images);
  if (
    truth === null ||
    typeof truth !== 'object' ||
    typeof truth.length !== 'number' ||
    truth.length !== source.count
  ) {
    throw outOfRangeError('truth', `one class per image (${source.count})`, truth);
  }
  const baselinePolicy = makePolicy('none');
  const predicted = await predictViews(classifier, source, [baselinePolicy, ...policies], options);
  const { views, indices, count: n } = predicted;
  const rowTruth = Int32Array.from(indices, (i) => truth[i]!);
  const K = classifier.numClasses;
  const runOne = (policy: Policy, baseCorrect: Uint8Array | undefined): PolicyRun => {
    const { scores, labels, seconds: mergeSeconds, gatedFraction } = mergeFromViews(policy, views, n, K, indices);
    const metrics = classificationMetrics(scores, labels, rowTruth, K);
    const correct = correctness(labels, rowTruth);
    const base = baseCorrect ?? correct;
    const flips = flipCounts(base, correct, rowTruth, K);
    // A gated policy predicts the identity view for every image and the others for the gated share.
    let inference = 0;
    let other = mergeSeconds;
    const counted = policy.gate && !policy.views.some(isIdentity) ? [IDENTITY, ...policy.views] : policy.views;
    for (const view of counted) {
      const entry = views.get(viewKey(view, policy.fill))!;
      const share = policy.gate && !isIdentity(view) ? gatedFraction : 1;
      inference += entry.inferenceSeconds * share;
      other += entry.otherSeconds * share;
    }
    const passes = policy.gate ? 1 + gatedFraction * (counted.length - 1) : forwardPasses(policy);
    const seconds = inference + other;
    return {
      policy,
      scores,
      labels,
      metrics,
      correct,
      lift: metrics.accuracy - base.reduce((a, v) => a + v, 0) / Math.max(1, n),
      ci95: bootstrapLiftInterval(base, correct, { resamples: options.bootstrapResamples, seed: options.seed }),
      mcnemarP: mcnemarExact(flips.correctToWrong, flips.wrongToCorrect),
      flips,
      timing: {
        seconds,
        imagesPerSecond: n / Math.max(seconds, 1e-9),
        otherShare: seconds > 0 ? other / seconds : 0,
        forwardPasses: passes,
      },
    };
  };
  const baseline = runOne(baselinePolicy, undefined);
  const runs = policies.map((p) => runOne(p, baseline.correct));
  return { baseline, runs, views, indices, truth: rowTruth };
}

/** A policy's results over repeated runs (each a model trained with its own seed). */
export interface PolicySummary {
  name: string;
  views: number;
  forwardPasses: number;
  viewSpec: string;
  merge: string;
  fill: string;
  accuracy: { mean: number; std: number; runs: number[] };
  top5?: { mean: number; std: number; runs: number[] };
  lift: { mean: number; std: number; runs: number[]; ci95: [number, number]; mcnemarP: number };
  nll: number;
  ece: number;
  brier: number;
  perClass: number[];
  /** Pooled over runs. */
  reliability: ReliabilityBin[];
  flips: {
    correctToWrong: number;
    wrongToCorrect: number;
    perClass: { correctToWrong: number; wrongToCorrect: number }[];
  };
  timing: PolicyTiming;
}

/**
 * Aggregates runs of one policy. With several runs, the lift interval and the
 * McNemar test pool the paired images of all runs.
 */
export function summarizePolicy(
  runs: readonly PolicyRun[],
  baselines: readonly PolicyRun[],
  options: { bootstrapResamples?: number; seed?: number } = {},
): PolicySummary {
  const first = runs[0]!;
  const policy = first.policy;
  const accuracies = runs.map((r) => r.metrics.accuracy);
  const lifts = runs.map((r) => r.lift);
  const pooledBase = concat(baselines.map((b) => b.correct));
  const pooledTta = concat(runs.map((r) => r.correct));
  const correctToWrong = runs.reduce((a, r) => a + r.flips.correctToWrong, 0);
  const wrongToCorrect = runs.reduce((a, r) => a + r.flips.wrongToCorrect, 0);
  const classes = first.metrics.perClass.length;
  const perClassFlips = Array.from({ length: classes }, (_, k) => ({
    correctToWrong: runs.reduce((a, r) => a + r.flips.perClass[k]!.correctToWrong, 0),
    wrongToCorrect: runs.reduce((a, r) => a + r.flips.perClass[k]!.wrongToCorrect, 0),
  }));
  const seconds = mean(runs.map((r) => r.timing.seconds));
  const summary: PolicySummary = {
    name: policy.name,
    views: policy.random?.draws ?? policy.views.length,
    forwardPasses: forwardPasses(policy),
    viewSpec: policy.views.map(formatView).join(','),
    merge: policy.merge,
    fill: policy.fill,
    accuracy: { mean: mean(accuracies), std: std(accuracies), runs: accuracies },
    lift: {
      mean: mean(lifts),
      std: std(lifts),
      runs: lifts,
      ci95: runs.length === 1 ? first.ci95 : bootstrapLiftInterval(pooledBase, pooledTta, options),
      mcnemarP: mcnemarExact(correctToWrong, wrongToCorrect),
    },
    nll: mean(runs.map((r) => r.metrics.nll)),
    ece: mean(runs.map((r) => r.metrics.ece)),
    brier: mean(runs.map((r) => r.metrics.brier)),
    perClass: Array.from({ length: classes }, (_, k) => mean(runs.map((r) => r.metrics.perClass[k]!))),
    reliability: poolReliability(runs.map((r) => r.metrics.reliability)),
    flips: { correctToWrong, wrongToCorrect, perClass: perClassFlips },
    timing: {
      seconds,
      imagesPerSecond: mean(runs.map((r) => r.timing.imagesPerSecond)),
      otherShare: mean(runs.map((r) => r.timing.otherShare)),
      forwardPasses: mean(runs.map((r) => r.timing.forwardPasses)),
    },
  };
  if (first.metrics.top5 !== undefined) {
    const top5 = runs.map((r) => r.metrics.top5!);
    summary.top5 = { mean: mean(top5), std: std(top5), runs: top5 };
  }
  return summary;
}

function concat(arrays: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(arrays.reduce((a, x) => a + x.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

function poolReliability(perRun: readonly ReliabilityBin[][]): ReliabilityBin[] {
  return perRun[0]!.map((bin, b) => {
    let count = 0,
      confidence = 0,
      accuracy = 0;
    for (const bins of perRun) {
      const x = bins[b]!;
      if (!x.count) continue;
      count += x.count;
      confidence += x.confidence * x.count;
      accuracy += x.accuracy * x.count;
    }
    return {
      lo: bin.lo,
      hi: bin.hi,
      count,
      confidence: count ? confidence / count : NaN,
      accuracy: count ? accuracy / count : NaN,
    };
  });
}
