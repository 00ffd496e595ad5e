// Training loop over a Uint8 dataset. Each batch is gathered from the uint8
// images and converted (and, with augmentation, flipped/shifted) by @tta/native
// straight into one reused float32 buffer, so the float32 training set never
// exists in memory. One seeded generator drives the validation hold-out, the
// shuffles and the augmentation draws: the same seed on the same backend gives
// the same weights.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { augment } from '@tta/native';
import {
  abortError,
  described,
  invalidParameterError,
  outOfRangeError,
  seededRandom,
  randomInt,
  shuffleInPlace,
} from '@tta/util';
import { ProgressBar, type ProgressMode } from '@tta/progress';
import { modelInputShape, modelNumClasses } from './architectures';
import { checkBatchSize, imageBatch, UINT8_SCALE } from './predict';

/** Any NHWC uint8 dataset: @tta/data's Split or anything shaped like it. */
export interface ImageSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface AugmentTrainingOptions {
  /** Flip each image horizontally with probability 1/2. Default true. */
  flip?: boolean;
  /**
   * Shift each image by a whole number of pixels drawn uniformly from [-shift, shift] on each axis (edges repeat).
   * Default 0.
   */
  shift?: number;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Images of this epoch done so far. */
  done: number;
  total: number;
  /** Running means over this epoch's batches. */
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
}

export interface TrainOptions {
  /** Default 3. */
  epochs?: number;
  /** Default 128. */
  batchSize?: number;
  /**
   * Seeds the validation hold-out, the shuffles and the augmentation. Random when omitted (and reported in the result).
   */
  seed?: number;
  /**
   * Hold out a fraction in (0, 1) or a count of the training images, or evaluate on a given split, after every epoch.
   */
  validation?: number | ImageSplit;
  /** Random flips and shifts of each training image. Default false. */
  augment?: false | AugmentTrainingOptions;
  /** How the progress bar is shown. Default 'quiet'. */
  progress?: ProgressMode;
  onProgress?: (progress: TrainProgress) => void;
  /** Aborting stops training before the next batch; train then rejects with an Error named 'AbortError'. */
  signal?: AbortSignal;
  /** Also stop (as with signal) on SIGINT while training; the handler is removed afterwards. Default false. */
  cancelOnSigint?: boolean;
  /** Checked against the model's output size; default: the model's. */
  numClasses?: number;
}

export interface TrainHistory {
  loss: number[];
  accuracy: number[];
  valLoss?: number[];
  valAccuracy?: number[];
}

export interface TrainResult {
  history: TrainHistory;
  /** Training images per second over the whole run (validation time excluded). */
  imagesPerSecond: number;
  seconds: number;
  /** The seed used (the one given, or the one drawn when none was). */
  seed: number;
}

export function checkSplit(name: string, split: unknown): ImageSplit {
  const s = split as ImageSplit;
  if (
    typeof split !== 'object' ||
    split === null ||
    !(s.images instanceof Uint8Array) ||
    !(s.labels instanceof Uint8Array)
  ) {
    throw invalidParameterError(
      name,
      'a split { images: Uint8Array, labels: Uint8Array, count, height, width, channels }',
      split,
    );
  }
  for (const key of ['count', 'height', 'width', 'channels'] as const) {
    if (!Number.isSafeInteger(s[key]) || s[key] < (key === 'count' ? 0 : 1))
      throw outOfRangeError(`${name}.${key}`, 'a positive integer', s[key]);
  }
  if (s.images.length !== s.count * s.height * s.width * s.channels || s.labels.length !== s.count) {
    throw outOfRangeError(
      name,
      'images of count * height * width * channels bytes and count labels',
      described(
        `count ${s.count}, ${s.height}x${s.width}x${s.channels}, ${s.images.length} image bytes, ${s.labels.length} labels`,
      ),
    );
  }
  return s;
}

function checkSplitMatchesModel(
  name: string,
  split: ImageSplit,
  inputShape: [number, number, number],
  numClasses: number,
): void {
  if (split.height !== inputShape[0] || split.width !== inputShape[1] || split.channels !== inputShape[2]) {
    throw outOfRangeError(
      name,
      `images of the model's input shape ${inputShape.join('x')}`,
      described(`${split.height}x${split.width}x${split.channels} images`),
    );
  }
  for (let i = 0; i < split.count; i++) {
    if (split.labels[i]! >= numClasses)
      throw outOfRangeError(`${name}.labels[${i}]`, `a class index below ${numClasses}`, split.labels[i]);
  }
}

function checkAugment(value: unknown): Required<AugmentTrainingOptions> | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== 'object' || value === null)
    throw invalidParameterError('options.augment', 'false or an object { flip?, shift? }', value);
  const { flip = true, shift = 0 } = value as AugmentTrainingOptions;
  if (typeof flip !== 'boolean') throw invalidParameterError('options.augment.flip', 'a boolean', flip);
  if (typeof shift !== 'number' || !Number.isSafeInteger(shift) || shift < 0)
    throw outOfRangeError('options.augment.shift', 'an integer >= 0 (pixels)', shift);
  return { flip, shift };
}

/** Writes one batch of training images, each with its own random view, into `out`. */
function augmentedBatch(
  split: ImageSplit,
  indices: ArrayLike<number>,
  gathered: Uint8Array,
  out: Float32Array,
  aug: Required<AugmentTrainingOptions> | undefined,
  random: () => number,
): Float32Array {
  const pixels = split.height * split.width * split.channels;
  const n = indices.length;
  for (let i = 0; i < n; i++)
    gathered.set(split.images.subarray(indices[i]! * pixels, (indices[i]! + 1) * pixels), i * pixels);
  if (aug === undefined || (!aug.flip && aug.shift === 0))
    return imageBatch(gathered, pixels, 0, n, [split.height, split.width, split.channels], out);
  const shape = [1, split.height, split.width, split.channels] as const;
  for (let i = 0; i < n; i++) {
    const view = {
      flip: aug.flip && random() < 0.5,
      dx: aug.shift > 0 ? randomInt(random, 2 * aug.shift + 1) - aug.shift : 0,
      dy: aug.shift > 0 ? randomInt(random, 2 * aug.shift + 1) - aug.shift : 0,
    };
    augment(gathered.subarray(i * pixels, (i + 1) * pixels), shape, [view], {
      scale: UINT8_SCALE,
      out: out.subarray(i * pixels, (i + 1) * pixels),
      threads: 1,
    });
  }
  return out.subarray(0, n * pixels);
}

function labelBatch(split: ImageSplit, indices: ArrayLike<number>, numClasses: number): tf.Tensor2D {
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) labels[i] = split.labels[indices[i]!]!;
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses), 'float32') as tf.Tensor2D);
}

/** Mean categorical cross-entropy and accuracy of the model on some images of a split. */
async function evaluate(
  model: tfl.LayersModel,
  split: ImageSplit,
  indices: Uint32Array,
  batchSize: number,
  numClasses: number,
): Promise<{ loss: number; accuracy: number }> {
  const pixels = split.height * split.width * split.channels;
  const gathered = new Uint8Array(Math.min(batchSize, indices.length) * pixels);
  const scratch = new Float32Array(gathered.length);
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < indices.length; start += batchSize) {
    const batchIndices = indices.subarray(start, Math.min(indices.length, start + batchSize));
    const x = augmentedBatch(split, batchIndices, gathered, scratch, undefined, Math.random);
    const output = tf.tidy(
      () =>
        model.predict(tf.tensor4d(x, [batchIndices.length, split.height, split.width, split.channels])) as tf.Tensor,
    );
    const p = (await output.data()) as Float32Array;
    output.dispose();
    for (let i = 0; i < batchIndices.length; i++) {
      const label = split.labels[batchIndices[i]!]!;
      const row = p.subarray(i * numClasses, (i + 1) * numClasses);
      // Clipped as Keras does, so one confident mistake cannot make the loss infinite.
      loss -= Math.log(Math.min(1 - 1e-7, Math.max(1e-7, row[label]!)));
      let best = 0;
      for (let k = 1; k < numClasses; k++) if (row[k]! > row[best]!) best = k;
      if (best === label) correct++;
    }
  }
  return { loss: loss / indices.length, accuracy: correct / indices.length };
}

function checkTrainOptions(options: TrainOptions) {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const epochs = options.epochs ?? 3;
  if (typeof epochs !== 'number' || !Number.isSafeInteger(epochs) || epochs < 1)
    throw outOfRangeError('options.epochs', 'an integer >= 1', epochs);
  const batchSize = checkBatchSize('options.batchSize', options.batchSize, 128);
  if (options.seed !== undefined && (typeof options.seed !== 'number' || !Number.isSafeInteger(options.seed))) {
    throw invalidParameterError('options.seed', 'a safe integer', options.seed);
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw invalidParameterError('options.onProgress', 'a function', options.onProgress);
  if (
    options.signal !== undefined &&
    (typeof options.signal !== 'object' || options.signal === null || typeof options.signal.aborted !== 'boolean')
  ) {
    throw invalidParameterError('options.signal', 'an AbortSignal', options.signal);
  }
  return { epochs, batchSize, aug: checkAugment(options.augment) };
}

/** Trains a compiled classifier on a uint8 dataset; see TrainOptions for what can be set. */
export async function train(
  model: tfl.LayersModel,
  data: ImageSplit,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const { epochs, batchSize, aug } = checkTrainOptions(options);
  const split = checkSplit('data', data);
  const inputShape = modelInputShape(model);
  const numClasses = modelNumClasses(model);
  if (options.numClasses !== undefined && options.numClasses !== numClasses) {
    throw outOfRangeError('options.numClasses', `the model's number of outputs (${numClasses})`, options.numClasses);
  }
  checkSplitMatchesModel('data', split, inputShape, numClasses);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = seededRandom(seed);
  const { trainIndices, validation } = holdOutValidation(split, options.validation, random, inputShape, numClasses);

  const pixels = split.height * split.width * split.channels;
  const buffers = {
    gathered: new Uint8Array(Math.min(batchSize, trainIndices.length) * pixels),
    scratch: new Float32Array(Math.min(batchSize, trainIndices.length) * pixels),
  };
  const history: TrainHistory = { loss: [], accuracy: [] };
  if (validation) {
    history.valLoss = [];
    history.valAccuracy = [];
  }
  const cancel = cancellation(options);
  let trainingSeconds = 0;
  let imagesTrained = 0;
  const started = performance.now();
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const bar = new ProgressBar({
        label: `train epoch ${epoch}/${epochs}`,
        total: trainIndices.length,
        unit: 'img',
        mode: options.progress ?? 'quiet',
      });
      const order = shuffleInPlace(trainIndices.slice(), random);
      const result = await trainEpoch(
        model,
        split,
        order,
        { epoch, epochs, batchSize, numClasses, aug, random },
        buffers,
        {
          signal: cancel.signal,
          bar,
          onProgress: options.onProgress,
        },
      );
      trainingSeconds += result.seconds;
      imagesTrained += result.images;
      history.loss.push(result.loss);
      history.accuracy.push(result.accuracy);
      const fields: Record<string, number> = { loss: result.loss, acc: result.accuracy };
      if (validation) {
        const v = await evaluate(model, validation.split, validation.indices, batchSize, numClasses);
        history.valLoss!.push(v.loss);
        history.valAccuracy!.push(v.accuracy);
        fields.val_loss = v.loss;
        fields.val_acc = v.accuracy;
      }
      bar.finish(fields);
    }
  } finally {
    cancel.dispose();
  }
  return {
    history,
    imagesPerSecond: imagesTrained / Math.max(trainingSeconds, 1e-9),
    seconds: (performance.now() - started) / 1000,
    seed,
  };
}

/**
 * The images to train on and the validation images: a seeded hold-out of a fraction or a
 * count of `split`, or another split, or none.
 */
function holdOutValidation(
  split: ImageSplit,
  validation: TrainOptions['validation'],
  random: () => number,
  inputShape: [number, number, number],
  numClasses: number,
): { trainIndices: Uint32Array; validation?: { split: ImageSplit; indices: Uint32Array } } {
  const all = Uint32Array.from({ length: split.count }, (_, i) => i);
  if (validation === undefined) {
    if (all.length === 0) throw outOfRangeError('data.count', 'at least one training image', split.count);
    return { trainIndices: all };
  }
  if (typeof validation === 'number') {
    const held = validation > 0 && validation < 1 ? Math.round(validation * split.count) : validation;
    if (!Number.isSafeInteger(held) || held < 1 || held >= split.count) {
      throw outOfRangeError(
        'options.validation',
        `a fraction in (0, 1) or an image count in [1, ${split.count - 1}] leaving both parts non-empty`,
        validation,
      );
    }
    shuffleInPlace(all, random);
    return {
      trainIndices: all.slice(held).sort(),
      validation: { split, indices: all.slice(0, held).sort() },
    };
  }
  const other = checkSplit('options.validation', validation);
  checkSplitMatchesModel('options.validation', other, inputShape, numClasses);
  if (all.length === 0) throw outOfRangeError('data.count', 'at least one training image', split.count);
  return {
    trainIndices: all,
    validation: { split: other, indices: Uint32Array.from({ length: other.count }, (_, i) => i) },
  };
}

/** One signal for options.signal and (with cancelOnSigint) Ctrl-C, and a way to let both go. */
function cancellation(options: TrainOptions): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const forward = () => controller.abort();
  options.signal?.addEventListener('abort', forward);
  if (options.signal?.aborted) controller.abort();
  if (options.cancelOnSigint) process.on('SIGINT', forward);
  return {
    signal: controller.signal,
    dispose: () => {
      options.signal?.removeEventListener('abort', forward);
      if (options.cancelOnSigint) process.removeListener('SIGINT', forward);
    },
  };
}

/** One pass over `order` in batches: mean loss and accuracy, images and seconds. */
async function trainEpoch(
  model: tfl.LayersModel,
  split: ImageSplit,
  order: Uint32Array,
  o: {
    epoch: number;
    epochs: number;
    batchSize: number;
    numClasses: number;
    aug: Required<AugmentTrainingOptions> | undefined;
    random: () => number;
  },
  buffers: { gathered: Uint8Array; scratch: Float32Array },
  report: { signal: AbortSignal; bar: ProgressBar; onProgress: TrainOptions['onProgress'] },
): Promise<{ loss: number; accuracy: number; images: number; seconds: number }> {
  const epochStart = performance.now();
  let lossSum = 0;
  let correctSum = 0;
  let done = 0;
  for (let start = 0; start < order.length; start += o.batchSize) {
    if (report.signal.aborted) {
      report.bar.finish({ cancelled: 'yes' });
      throw abortError('Training was cancelled');
    }
    const batchIndices = order.subarray(start, Math.min(order.length, start + o.batchSize));
    const n = batchIndices.length;
    const x = augmentedBatch(split, batchIndices, buffers.gathered, buffers.scratch, o.aug, o.random);
    const xs = tf.tensor4d(x, [n, split.height, split.width, split.channels]);
    const ys = labelBatch(split, batchIndices, o.numClasses);
    let result: number | number[];
    try {
      result = await model.trainOnBatch(xs, ys);
    } finally {
      xs.dispose();
      ys.dispose();
    }
    const [loss, accuracy] = Array.isArray(result) ? result : [result, Number.NaN];
    lossSum += loss! * n;
    correctSum += accuracy! * n;
    done += n;
    const seconds = (performance.now() - epochStart) / 1000;
    report.bar.update(done, { loss: lossSum / done, acc: correctSum / done });
    report.onProgress?.({
      epoch: o.epoch,
      epochs: o.epochs,
      done,
      total: order.length,
      loss: lossSum / done,
      accuracy: correctSum / done,
      imagesPerSecond: done / Math.max(seconds, 1e-9),
    });
    // trainOnBatch resolves on microtasks only; a turn of the event loop lets SIGINT
    // handlers (and thus cancellation) run between batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return {
    loss: lossSum / done,
    accuracy: correctSum / done,
    images: done,
    seconds: (performance.now() - epochStart) / 1000,
  };
}
