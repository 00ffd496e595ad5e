// predictWithTta: stream the images in chunks, augment each chunk straight from the
// uint8 data into a reused float32 buffer (all views at once), run one batched
// predict per chunk, and merge the views with softVote into the final arrays.
import { augment, softVote } from '@tta/native';
import { described, invalidParameterError, outOfRangeError } from '@tta/util';
import { forwardPasses, isIdentity, margins, randomFlipCounts, type Policy } from './policies';

/** Anything that maps a float32 NHWC batch to class probabilities [count, classes]. */
export interface Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  predict(images: Float32Array, count: number): Promise<Float32Array>;
}

/** Images as the data package gives them: uint8 NHWC. */
export interface ImageBatch {
  images: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface TtaOptions {
  /** Images per chunk (memory: views x chunk x image size x 4 bytes). Default 1000. */
  chunkSize?: number;
  /** Also return the per-view predictions [views, n, classes]. */
  keepViewPredictions?: boolean;
  onProgress?: (done: number, total: number) => void;
  threads?: number;
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
  viewPredictions?: Float32Array;
  timing: TtaTiming;
  /** For a gated policy: which images were augmented. */
  gated?: Uint8Array;
}

export function checkImageBatch(batch: ImageBatch, classifier: Classifier): void {
  const [h, w, c] = classifier.inputShape;
  if (batch.height !== h || batch.width !== w || batch.channels !== c) {
    throw outOfRangeError(
      'images',
      `images of ${h}x${w}x${c} (the model's input)`,
      described(`${batch.height}x${batch.width}x${batch.channels}`),
    );
  }
  if (batch.images.length !== batch.count * h * w * c) {
    throw outOfRangeError(
      'images.images',
      `${batch.count * h * w * c} bytes (count x ${h} x ${w} x ${c})`,
      batch.images,
    );
  }
}

export async function predictWithTta(
  classifier: Classifier,
  batch: ImageBatch,
  policy: Policy,
  options: TtaOptions = {},
): Promise<TtaResult> {
  checkImageBatch(batch, classifier);
  const chunkSize = options.chunkSize ?? 1000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw outOfRangeError('chunkSize', 'an integer >= 1', chunkSize);
  const { count: n, height: h, width: w, channels: c } = batch;
  const K = classifier.numClasses;
  const V = forwardPasses(policy);
  if (V < 1) throw invalidParameterError('policy.views', 'at least one view', policy.views);
  const imageSize = h * w * c;
  const scores = new Float32Array(n * K);
  const labels = new Int32Array(n);
  const viewPredictions = options.keepViewPredictions ? new Float32Array(V * n * K) : undefined;
  const buffer = new Float32Array(V * Math.min(chunkSize, n) * imageSize);

  if (policy.gate && viewPredictions)
    throw invalidParameterError(
      'keepViewPredictions',
      'false for a gated policy (only some images get every view)',
      true,
    );
  const gated = policy.gate ? new Uint8Array(n) : undefined;
  let passes = 0;
  const start = performance.now();
  let inference = 0;
  const timedPredict = async (input: Float32Array, count: number): Promise<Float32Array> => {
    const t = performance.now();
    const predictions = await classifier.predict(input, count);
    inference += performance.now() - t;
    passes += count;
    if (predictions.length !== count * K) {
      throw outOfRangeError(
        'classifier.predict()',
        `${count * K} probabilities (${count} images x ${K} classes)`,
        predictions,
      );
    }
    return predictions;
  };
  for (let first = 0; first < n; first += chunkSize) {
    const m = Math.min(chunkSize, n - first);
    const chunk = batch.images.subarray(first * imageSize, (first + m) * imageSize);
    const out = scores.subarray(first * K, (first + m) * K);
    const outLabels = labels.subarray(first, first + m);
    if (policy.gate) {
      await predictGated(
        policy,
        chunk,
        [m, h, w, c],
        K,
        buffer,
        timedPredict,
        out,
        outLabels,
        gated!.subarray(first, first + m),
        options.threads,
      );
    } else {
      const input = buffer.subarray(0, V * m * imageSize);
      augment(chunk, [m, h, w, c], policy.views, {
        fill: policy.fill,
        scale: 1 / 255,
        out: input,
        threads: options.threads,
      });
      const predictions = await timedPredict(input, V * m);
      if (viewPredictions) {
        for (let v = 0; v < V; v++)
          viewPredictions.set(predictions.subarray(v * m * K, (v + 1) * m * K), (v * n + first) * K);
      }
      mergeViews(policy, predictions, [V, m, K], first, out, outLabels, options.threads);
    }
    options.onProgress?.(first + m, n);
    // Predictions resolve on microtasks only; without a turn of the event loop, signal
    // handlers (Ctrl-C) and timers would wait for the whole test set.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - start) / 1000;
  const inferenceSeconds = inference / 1000;
  return {
    scores,
    labels,
    classes: K,
    viewPredictions,
    timing: {
      seconds,
      inferenceSeconds,
      otherSeconds: seconds - inferenceSeconds,
      otherShare: seconds > 0 ? (seconds - inferenceSeconds) / seconds : 0,
      imagesPerSecond: n / Math.max(seconds, 1e-9),
      forwardPasses: n ? passes / n : V,
    },
    gated,
  };
}

/**
 * One chunk of a gated policy: the identity view for every image, then the other
 * views only for the images whose plain margin is below the gate.
 */
async function predictGated(
  policy: Policy,
  chunk: Uint8Array,
  shape: [number, number, number, number],
  K: number,
  buffer: Float32Array,
  predict: (input: Float32Array, count: number) => Promise<Float32Array>,
  out: Float32Array,
  labels: Int32Array,
  gated: Uint8Array,
  threads?: number,
): Promise<void> {
  const [m, h, w, c] = shape;
  const imageSize = h * w * c;
  const plainInput = buffer.subarray(0, m * imageSize);
  augment(chunk, shape, [{}], { scale: 1 / 255, out: plainInput, threads });
  const plain = await predict(plainInput, m);
  const margin = margins(plain, K);
  const members: number[] = [];
  for (let i = 0; i < m; i++) if (margin[i]! < policy.gate!.margin) members.push(i);
  // Confident images keep their plain prediction (as softVote of one view would give it).
  softVote(plain, [1, m, K], { out, labels, threads });
  if (members.length === 0) return;
  members.forEach((i) => (gated[i] = 1));
  const g = members.length;
  const images = new Uint8Array(g * imageSize);
  members.forEach((i, j) => images.set(chunk.subarray(i * imageSize, (i + 1) * imageSize), j * imageSize));
  const identityIndex = policy.views.findIndex(isIdentity);
  const others = policy.views.filter((_, v) => v !== identityIndex);
  let otherPredictions: Float32Array = new Float32Array(0);
  if (others.length > 0) {
    const input = buffer.subarray(0, others.length * g * imageSize);
    augment(images, [g, h, w, c], others, { fill: policy.fill, scale: 1 / 255, out: input, threads });
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
  const merged = softVote(stacked, [V, g, K], { merge: policy.merge, weights: policy.weights, threads });
  members.forEach((i, j) => {
    out.set(merged.scores.subarray(j * K, (j + 1) * K), i * K);
    labels[i] = merged.labels[j]!;
  });
}

/**
 * Merges [views, m, classes] for the images first..first+m into out/labels. For a
 * random policy, images are grouped by their flip count k and each group is merged
 * with weights (draws - k, k) over (identity, flip).
 */
export function mergeViews(
  policy: Policy,
  predictions: Float32Array,
  shape: [number, number, number],
  first: number,
  out: Float32Array,
  labels: Int32Array,
  threads?: number,
): void {
  const [V, m, K] = shape;
  if (!policy.random) {
    softVote(predictions, shape, { merge: policy.merge, weights: policy.weights, out, labels, threads });
    return;
  }
  const { draws } = policy.random;
  const counts = randomFlipCounts(policy.random, first, m);
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
    const merged = softVote(gathered, [V, g, K], { merge: policy.merge, weights: [draws - k, k], threads });
    members.forEach((i, j) => {
      out.set(merged.scores.subarray(j * K, (j + 1) * K), i * K);
      labels[i] = merged.labels[j]!;
    });
  }
}
