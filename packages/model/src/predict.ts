// Batched inference. Uint8 images are converted to float32 one batch at a time
// (through @tta/native's identity view with scale 1/255), so a whole test set
// never exists as float32 at once; every batch's tensors are released.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { augment } from '@tta/native';
import { described, invalidParameterError, outOfRangeError } from '@tta/util';
import { modelInputShape, modelNumClasses } from './architectures';

export interface PredictOptions {
  /** Images per forward pass. Default 256. */
  batchSize?: number;
  /** [height, width, channels] of each image; default: the model's input shape. */
  shape?: [number, number, number];
  /**
   * Apply softmax to the model's output. Default: only when the last layer's activation is linear
   * (a model that outputs logits), so the result is always probabilities.
   */
  softmax?: boolean;
}

export const UINT8_SCALE = 1 / 255;

export function checkBatchSize(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw outOfRangeError(name, 'an integer >= 1', value);
  return value;
}

/** Whether the model's final layer outputs logits rather than probabilities. */
function outputsLogits(model: tfl.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  const activation = (last?.getConfig() as { activation?: unknown } | undefined)?.activation;
  return activation === 'linear';
}

/**
 * Converts images [start, start + count) of an NHWC buffer to a float32 batch in [0, 1]
 * (Uint8 is scaled by 1/255; Float32 is taken as already scaled). Reuses `scratch` when given.
 */
export function imageBatch(
  images: Uint8Array | Float32Array,
  pixelsPerImage: number,
  start: number,
  count: number,
  shape: [number, number, number],
  scratch?: Float32Array,
): Float32Array {
  const begin = start * pixelsPerImage;
  const end = begin + count * pixelsPerImage;
  if (images instanceof Float32Array) return images.subarray(begin, end);
  const out =
    scratch !== undefined && scratch.length >= count * pixelsPerImage
      ? scratch.subarray(0, count * pixelsPerImage)
      : undefined;
  return augment(images.subarray(begin, end), [count, shape[0], shape[1], shape[2]], [{}], {
    scale: UINT8_SCALE,
    ...(out ? { out } : {}),
  });
}

/** Class probabilities [n, classes] for NHWC images, computed batch by batch. */
export async function predict(
  model: tfl.LayersModel,
  images: Uint8Array | Float32Array,
  options: PredictOptions = {},
): Promise<Float32Array> {
  if (!(images instanceof Uint8Array) && !(images instanceof Float32Array)) {
    throw invalidParameterError('images', 'a Uint8Array (0-255) or Float32Array (0-1) of NHWC pixels', images);
  }
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const batchSize = checkBatchSize('options.batchSize', options.batchSize, 256);
  const shape = options.shape ?? modelInputShape(model);
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw invalidParameterError('options.shape', 'an array [height, width, channels] of positive integers', shape);
  }
  const expected = modelInputShape(model);
  if (shape.some((d, i) => d !== expected[i])) {
    throw outOfRangeError('options.shape', `the model's input shape ${expected.join('x')}`, described(shape.join('x')));
  }
  const pixelsPerImage = shape[0] * shape[1] * shape[2];
  if (images.length % pixelsPerImage !== 0) {
    throw outOfRangeError(
      'images',
      `a whole number of ${shape.join('x')} images (a multiple of ${pixelsPerImage} values)`,
      images,
    );
  }
  const n = images.length / pixelsPerImage;
  const classes = modelNumClasses(model);
  const applySoftmax = options.softmax ?? outputsLogits(model);
  const out = new Float32Array(n * classes);
  const scratch = images instanceof Uint8Array ? new Float32Array(Math.min(n, batchSize) * pixelsPerImage) : undefined;
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const batch = imageBatch(images, pixelsPerImage, start, count, shape, scratch);
    const probabilities = tf.tidy(() => {
      // batchSize: tfjs-layers would otherwise split the batch into slices of 32 and concatenate them.
      const output = model.predict(tf.tensor4d(batch, [count, shape[0], shape[1], shape[2]]), {
        batchSize: count,
      }) as tf.Tensor;
      return applySoftmax ? tf.softmax(output) : output;
    });
    try {
      out.set((await probabilities.data()) as Float32Array, start * classes);
    } finally {
      probabilities.dispose();
    }
  }
  return out;
}
