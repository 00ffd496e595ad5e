// predictWithTta: stream the images in chunks, augment each chunk straight from its pixels
// into a reused float32 buffer (every view at once, with the model's preprocessing in the
// same pass), run one batched predict per chunk, and merge the views with softVote.
import { augment, softVote, type AugmentOptions, type Fill, type View } from '@tta/native';
import { described, invalidParameterError, outOfRangeError, throwIfAborted } from '@tta/util';
import { checkImageShape, defaultChunkSize, toSource, type Images } from './images';
import { applyTemperature } from './calibration';
import { checkLearnedWeights, mergeLearned } from './learned';
import {
  formatView,
  forwardPasses,
  isIdentity,
  margins,
  randomFlipCountsOf,
  viewsForInput,
  type Policy,
  type PolicyView,
} from './policies';

/**
 * How a model expects its pixels: out = x * scale + offset, per channel (one number for all,
 * or one per channel), after an optional RGB -> BGR swap. Applied to uint8 images while they
 * are augmented; float32 images are taken as already preprocessed.
 */
export interface Preprocessing {
  scale: number | readonly number[];
  offset?: number | readonly number[];
  reverseChannels?: boolean;
}

/** x / 255: what the reference CNN and most Keras image models were trained on. */
export const UNIT_PREPROCESSING: Preprocessing = { scale: 1 / 255 };

/** Anything that maps a float32 NHWC batch to class probabilities [count, classes]. */
export interface Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  predict(images: Float32Array, count: number): Promise<Float32Array>;
  /** The pixel preprocessing the model expects. Default UNIT_PREPROCESSING. */
  readonly preprocessing?: Preprocessing;
}

export interface TtaOptions {
  /** Images per chunk (memory: views x chunk x image size x 4 bytes). Default: about 128 MB per view. */
  chunkSize?: number;
  /** Also return the per-view predictions [views, n, classes]. */
  keepViewPredictions?: boolean;
  /** Images done so far, of at most `total`. */
  onProgress?: (done: number, total: number) => void;
  threads?: number;
  signal?: AbortSignal;
}

export interface TtaTiming {
  seconds: number;
  inferenceSeconds: number;
  /** Augment, vote and conversions: everything but model inference. */
  otherSeconds: number;
  otherShare: number;
  imagesPerSecond: number;
  forwardPasses: number;
}

export interface TtaResult {
  scores: Float32Array;
  labels: Int32Array;
  classes: number;
  /** The source index of each result row (all of 0..n-1 for a batch; a stream may leave out unreadable images). */
  indices: Int32Array;
  viewPredictions?: Float32Array;
  timing: TtaTiming;
  /** For a gated policy: which images were augmented. */
  gated?: Uint8Array;
}

/** One chunk's merged results, as predictWithTtaStream yields them. */
export interface TtaChunkResult {
  indices: Int32Array;
  scores: Float32Array;
  labels: Int32Array;
  /** [views, count, classes] when keepViewPredictions. */
  viewPredictions?: Float32Array;
  gated?: Uint8Array;
  inferenceSeconds: number;
  forwardPasses: number;
}

/** The augment options that apply a classifier's preprocessing to these pixels. */
export function pixelOptions(classifier: Classifier, images: Uint8Array | Float32Array): Partial<AugmentOptions> {
  if (images instanceof Float32Array) return { scale: 1 };
  const p = classifier.preprocessing ?? UNIT_PREPROCESSING;
  return {
    scale: p.scale,
    ...(p.offset !== undefined ? { offset: p.offset } : {}),
    ...(p.reverseChannels ? { reverseChannels: true } : {}),
  };
}

interface ChunkContext {
  classifier: Classifier;
  policy: Policy;
  /** The policy's views for the classifier's input size (named crops sized). */
  augmentViews: View[];
  /** The images' height and width (the views are resampled to the classifier's input). */
  imageHeight: number;
  imageWidth: number;
  views: number;
  classes: number;
  buffer: Float32Array;
  threads: number | undefined;
  keepViewPredictions: boolean;
}

function checkPredictions(predictions: Float32Array, count: number, classes: number): Float32Array {
  if (!(predictions instanceof Float32Array) || predictions.length !== count * classes) {
    throw outOfRangeError(
      'classifier.predict()',
      `a Float32Array of ${count * classes} probabilities (${count} images x ${classes} classes)`,
      predictions,
    );
  }
  return predictions;
}

async function predictChunk(
  ctx: ChunkContext,
  images: Uint8Array | Float32Array,
  count: number,
  indices: Int32Array,
): Promise<TtaChunkResult> {
  const { classifier, policy, classes: K } = ctx;
  const [h, w, c] = classifier.inputShape;
  const scores = new Float32Array(count * K);
  const labels = new Int32Array(count);
  let inferenceSeconds = 0;
  let passes = 0;
  const timedPredict = async (input: Float32Array, n: number): Promise<Float32Array> => {
    const t = performance.now();
    const predictions = checkPredictions(await classifier.predict(input, n), n, K);
    inferenceSeconds += (performance.now() - t) / 1000;
    passes += n;
    return predictions;
  };
  const pixels = { ...pixelOptions(classifier, images), outputShape: [h, w] as const };
  const shape: [number, number, number, number] = [count, ctx.imageHeight, ctx.imageWidth, c];
  if (policy.gate) {
    const gated = new Uint8Array(count);
    await predictGated(ctx, pixels, images, shape, timedPredict, scores, labels, gated);
    applyPolicyTemperature(policy, scores, K);
    return { indices, scores, labels, gated, inferenceSeconds, forwardPasses: passes };
  }
  const V = ctx.views;
  const input = ctx.buffer.subarray(0, V * count * h * w * c);
  augment(images, shape, ctx.augmentViews, { fill: policy.fill, ...pixels, out: input, threads: ctx.threads });
  const predictions = await timedPredict(input, V * count);
  mergeViews(policy, predictions, [V, count, K], indices, scores, labels, ctx.threads);
  applyPolicyTemperature(policy, scores, K);
  return {
    indices,
    scores,
    labels,
    ...(ctx.keepViewPredictions ? { viewPredictions: predictions } : {}),
    inferenceSeconds,
    forwardPasses: passes,
  };
}

/**
 * Augments a chunk ([count, height, width, c]) under several views that may each have their own
 * fill, view-major into `out` ([views, count, h, w, c] at the classifier's `inputShape`): one
 * augment call per run of views sharing a fill.
 */
export function augmentViews(
  images: Uint8Array | Float32Array,
  shape: [number, number, number, number],
  inputShape: readonly [number, number, number],
  views: readonly { view: PolicyView; fill: Fill }[],
  pixels: Partial<AugmentOptions>,
  out: Float32Array,
  threads: number | undefined,
): void {
  const [h, w, c] = inputShape;
  const per = shape[0] * h * w * c;
  for (let first = 0; first < views.length;) {
    let last = first + 1;
    while (last < views.length && views[last]!.fill === views[first]!.fill) last++;
    augment(
      images,
      shape,
      viewsForInput(
        views.slice(first, last).map((v) => v.view),
        inputShape,
      ),
      {
        fill: views[first]!.fill,
        ...pixels,
        outputShape: [h, w],
        out: out.subarray(first * per, last * per),
        threads,
      },
    );
    first = last;
  }
}

/**
 * A named crop without a size takes the classifier's input size: out of images of that very
 * size it is the whole image, which is surely not what a five-crop policy was meant to do.
 */
export function checkPolicyFits(
  views: readonly PolicyView[],
  source: { height: number; width: number },
  inputShape: readonly [number, number, number],
): void {
  const [h, w] = inputShape;
  if (source.height > h || source.width > w) return;
  const unsized = views.find((v) => v.crop && 'position' in v.crop && v.crop.size === undefined);
  if (unsized) {
    throw outOfRangeError(
      'images',
      `images larger than the model's input ${h}x${w} for the view ${formatView(unsized)} (a crop of the input's size), or a crop size such as crop=center:${Math.max(1, Math.round(h * 0.875))}`,
      described(`${source.height}x${source.width} images`),
    );
  }
}

export function checkChunkSize(value: unknown, fallback: number): number {
  const chunkSize = value ?? fallback;
  if (typeof chunkSize !== 'number' || !Number.isInteger(chunkSize) || chunkSize < 1) {
    throw outOfRangeError('options.chunkSize', 'an integer >= 1', chunkSize);
  }
  return chunkSize;
}

/**
 * TTA predictions chunk by chunk, as the images are read: for `tta predict` on a million
 * files, results can be written as they come and memory stays bounded by one chunk.
 */
export async function* predictWithTtaStream(
  classifier: Classifier,
  images: Images,
  policy: Policy,
  options: TtaOptions = {},
): AsyncGenerator<TtaChunkResult> {
  const source = toSource(images);
  checkImageShape(source, classifier.inputShape);
  checkPolicyFits(policy.views, source, classifier.inputShape);
  const V = forwardPasses(policy);
  const chunkSize = checkChunkSize(
    options.chunkSize,
    defaultChunkSize(source.height, source.width, source.channels, V),
  );
  if (V < 1) throw invalidParameterError('policy.views', 'at least one view', policy.views);
  checkPolicyMerge(policy, classifier.numClasses);
  if (policy.gate && options.keepViewPredictions) {
    throw invalidParameterError(
      'options.keepViewPredictions',
      'false for a gated policy (only some images get every view)',
      true,
    );
  }
  const [h, w, c] = classifier.inputShape;
  const ctx: ChunkContext = {
    classifier,
    policy,
    augmentViews: viewsForInput(policy.views, classifier.inputShape),
    imageHeight: source.height,
    imageWidth: source.width,
    views: V,
    classes: classifier.numClasses,
    buffer: new Float32Array(V * Math.min(chunkSize, Math.max(1, source.count)) * h * w * c),
    threads: options.threads,
    keepViewPredictions: options.keepViewPredictions === true,
  };
  let done = 0;
  for await (const chunk of source.chunks(chunkSize, options.signal)) {
    throwIfAborted(options.signal);
    if (chunk.count > chunkSize) throw outOfRangeError('source chunk', `at most ${chunkSize} images`, chunk.count);
    const indices = Int32Array.from(chunk.indices);
    // A stretch of a stream where no image could be read: nothing to predict.
    yield chunk.count === 0
      ? { indices, scores: new Float32Array(0), labels: new Int32Array(0), inferenceSeconds: 0, forwardPasses: 0 }
      : await predictChunk(ctx, chunk.images, chunk.count, indices);
    done += chunk.count;
    options.onProgress?.(done, source.count);
    // Predictions resolve on microtasks only; without a turn of the event loop, signal
    // handlers (Ctrl-C) and timers would wait for the whole data set.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throwIfAborted(options.signal);
}

/** TTA predictions for every image: merged scores [n, classes], labels, timing. */
export async function predictWithTta(
  classifier: Classifier,
  images: Images,
  policy: Policy,
  options: TtaOptions = {},
): Promise<TtaResult> {
  const source = toSource(images);
  const K = classifier.numClasses;
  const V = forwardPasses(policy);
  const capacity = source.count;
  const scores = new Float32Array(capacity * K);
  const labels = new Int32Array(capacity);
  const indices = new Int32Array(capacity);
  const gated = policy.gate ? new Uint8Array(capacity) : undefined;
  const chunks: TtaChunkResult[] = [];
  let n = 0;
  let inference = 0;
  let passes = 0;
  const start = performance.now();
  for await (const chunk of predictWithTtaStream(classifier, source, policy, options)) {
    const m = chunk.indices.length;
    scores.set(chunk.scores, n * K);
    labels.set(chunk.labels, n);
    indices.set(chunk.indices, n);
    if (gated && chunk.gated) gated.set(chunk.gated, n);
    if (chunk.viewPredictions) chunks.push(chunk);
    inference += chunk.inferenceSeconds;
    passes += chunk.forwardPasses;
    n += m;
  }
  let viewPredictions: Float32Array | undefined;
  if (options.keepViewPredictions) {
    // [views, n, classes]: each chunk's block of every view goes to its images' rows.
    viewPredictions = new Float32Array(V * n * K);
    let first = 0;
    for (const chunk of chunks) {
      const m = chunk.indices.length;
      for (let v = 0; v < V; v++) {
        viewPredictions.set(chunk.viewPredictions!.subarray(v * m * K, (v + 1) * m * K), (v * n + first) * K);
      }
      first += m;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    scores: scores.subarray(0, n * K),
    labels: labels.subarray(0, n),
    classes: K,
    indices: indices.subarray(0, n),
    ...(viewPredictions ? { viewPredictions } : {}),
    timing: {
      seconds,
      inferenceSeconds: inference,
      otherSeconds: seconds - inference,
      otherShare: seconds > 0 ? (seconds - inference) / seconds : 0,
      imagesPerSecond: n / Math.max(seconds, 1e-9),
      forwardPasses: n ? passes / n : V,
    },
    ...(gated ? { gated: gated.subarray(0, n) } : {}),
  };
}

/**
 * One chunk of a gated policy: the identity view for every image, then the other
 * views only for the images whose plain margin is below the gate.
 */
async function predictGated(
  ctx: ChunkContext,
  pixels: Partial<AugmentOptions>,
  chunk: Uint8Array | Float32Array,
  shape: [number, number, number, number],
  predict: (input: Float32Array, count: number) => Promise<Float32Array>,
  out: Float32Array,
  labels: Int32Array,
  gated: Uint8Array,
): Promise<void> {
  const { policy, classes: K, buffer, threads } = ctx;
  const [m, ih, iw, c] = shape;
  const [h, w] = ctx.classifier.inputShape;
  const imageSize = ih * iw * c;
  const inputSize = h * w * c;
  const plainInput = buffer.subarray(0, m * inputSize);
  augment(chunk, shape, [{}], { ...pixels, out: plainInput, threads });
  const plain = await predict(plainInput, m);
  const margin = margins(plain, K);
  const members: number[] = [];
  for (let i = 0; i < m; i++) if (margin[i]! < policy.gate!.margin) members.push(i);
  // Confident images keep their plain prediction (as softVote of one view would give it).
  softVote(plain, [1, m, K], { out, labels, threads });
  if (members.length === 0) return;
  members.forEach((i) => (gated[i] = 1));
  const g = members.length;
  const images = chunk instanceof Uint8Array ? new Uint8Array(g * imageSize) : new Float32Array(g * imageSize);
  members.forEach((i, j) => images.set(chunk.subarray(i * imageSize, (i + 1) * imageSize), j * imageSize));
  const identityIndex = policy.views.findIndex(isIdentity);
  const others = ctx.augmentViews.filter((_, v) => v !== identityIndex);
  let otherPredictions: Float32Array = new Float32Array(0);
  if (others.length > 0) {
    const input = buffer.subarray(0, others.length * g * inputSize);
    augment(images, [g, ih, iw, c], others, { fill: policy.fill, ...pixels, out: input, threads });
    otherPredictions = await predict(input, others.length * g);
  }
  const V = policy.views.length;
  const stacked = new Float32Array(V * g * K);
  let o = 0;
  for (let v = 0; v < V; v++) {
    if (v === identityIndex) {
      members.forEach((i, j) => stacked.set(plain.subarray(i * K, (i + 1) * K), (v * g + j) * K));
    } else {
      stacked.set(otherPredictions.subarray(o * g * K, (o + 1) * g * K), v * g * K);
      o++;
    }
  }
  const merged = mergeStacked(policy, stacked, [V, g, K], undefined, undefined, threads);
  members.forEach((i, j) => {
    out.set(merged.scores.subarray(j * K, (j + 1) * K), i * K);
    labels[i] = merged.labels[j]!;
  });
}

/**
 * Merges [views, m, classes] for the images at `indices` into out/labels. For a random
 * policy, images are grouped by their flip count k (seeded by each image's index) and each
 * group is merged with weights (draws - k, k) over (identity, flip).
 */
export function mergeViews(
  policy: Policy,
  predictions: Float32Array,
  shape: [number, number, number],
  indices: ArrayLike<number>,
  out: Float32Array,
  labels: Int32Array,
  threads?: number,
): void {
  const [V, m, K] = shape;
  if (!policy.random) {
    mergeStacked(policy, predictions, shape, out, labels, threads);
    return;
  }
  const { draws } = policy.random;
  const counts = randomFlipCountsOf(policy.random, indices);
  const groups: number[][] = Array.from({ length: draws + 1 }, () => []);
  counts.forEach((k, i) => groups[k]!.push(i));
  for (let k = 0; k <= draws; k++) {
    const members = groups[k]!;
    if (members.length === 0) continue;
    const g = members.length;
    const gathered = new Float32Array(V * g * K);
    for (let v = 0; v < V; v++) {
      members.forEach((i, j) =>
        gathered.set(predictions.subarray((v * m + i) * K, (v * m + i + 1) * K), (v * g + j) * K),
      );
    }
    const merged = mergeStacked(
      { ...policy, weights: [draws - k, k] },
      gathered,
      [V, g, K],
      undefined,
      undefined,
      threads,
    );
    members.forEach((i, j) => {
      out.set(merged.scores.subarray(j * K, (j + 1) * K), i * K);
      labels[i] = merged.labels[j]!;
    });
  }
}

/**
 * A learned merge needs weights that fit its views and classes, and a random policy cannot have
 * one; a temperature is finite and > 0.
 */
export function checkPolicyMerge(policy: Policy, classes: number): void {
  if (policy.merge === 'learned') {
    if (!policy.learned) throw invalidParameterError('policy.learned', "fitted weights for merge 'learned'", undefined);
    checkLearnedWeights(policy.learned, policy.views.length, classes, 'policy.learned');
    if (policy.random) throw invalidParameterError('policy.merge', "not 'learned' for a random policy", policy.merge);
  }
  const t = policy.temperature;
  if (t !== undefined && (typeof t !== 'number' || !(t > 0) || !Number.isFinite(t)))
    throw outOfRangeError('policy.temperature', 'a finite number > 0', t);
}

/**
 * Merges [views, m, classes] with the policy's merge: softVote's modes with the policy's view
 * weights, or log-linear pooling with its learned weights.
 */
export function mergeStacked(
  policy: Policy,
  predictions: Float32Array,
  shape: [number, number, number],
  out?: Float32Array,
  labels?: Int32Array,
  threads?: number,
): { scores: Float32Array; labels: Int32Array } {
  if (policy.merge === 'learned') {
    checkPolicyMerge(policy, shape[2]);
    return mergeLearned(predictions, shape, policy.learned!, out, labels);
  }
  return softVote(predictions, shape, { merge: policy.merge, weights: policy.weights, out, labels, threads });
}

/** A temperature-scaled policy's scores: softmax(log p / T), in place (labels do not change). */
export function applyPolicyTemperature(policy: Policy, scores: Float32Array, classes: number): void {
  if (policy.temperature !== undefined && policy.temperature !== 1)
    applyTemperature(scores, classes, policy.temperature, scores);
}
