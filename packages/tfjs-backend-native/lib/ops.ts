/**
 * Ops that tfjs-core composes of many kernels, as one kernel on the native backend (tfjs'
 * pattern: an op validates, then runs a kernel by name). On any other backend they compose
 * the same tfjs-core ops the composition would, so results do not depend on the backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { invalidParameterError, outOfRangeError } from '@tta/util';
import { BATCH_NORM_TRAINING } from './kernels/BatchNormTraining';
import { FUSED_CONV2D } from './kernels/FusedConv2D';

export interface BatchNormTrainingResult {
  /** offset + (x - mean) * scale / sqrt(variance + varianceEpsilon), x's shape. */
  y: Tensor;
  /** Per channel (the last axis), over every other axis. */
  mean: Tensor;
  /** Biased (divided by the count), like tf.moments. */
  variance: Tensor;
}

function checkChannelParameter(name: string, t: Tensor | null | undefined, channels: number): void {
  if (t == null) return;
  if (!(t instanceof tf.Tensor) || t.dtype !== 'float32' || t.rank !== 1 || t.size !== channels) {
    throw invalidParameterError(name, `a float32 tensor of shape [${channels}] or null`, t);
  }
}

/**
 * Batch normalisation as Keras' BatchNormalization layer computes it while training: the
 * batch's mean and variance over every axis but the last, then the normalisation (what
 * tf.moments followed by tf.batchNorm compute). Differentiable, through the batch statistics.
 * On the native backend it is one kernel forward and one backward, two passes over x each,
 * where the composition takes about eight forward and twenty backward.
 */
export function batchNormTraining(
  x: Tensor,
  scale: Tensor | null = null,
  offset: Tensor | null = null,
  varianceEpsilon = 1e-3,
): BatchNormTrainingResult {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32' || x.rank < 1 || x.size === 0) {
    throw invalidParameterError('x', 'a non-empty float32 tensor of rank >= 1', x);
  }
  const channels = x.shape[x.rank - 1]!;
  checkChannelParameter('scale', scale, channels);
  checkChannelParameter('offset', offset, channels);
  if (typeof varianceEpsilon !== 'number' || !(varianceEpsilon > 0) || !Number.isFinite(varianceEpsilon)) {
    throw outOfRangeError('varianceEpsilon', 'a positive finite number', varianceEpsilon);
  }
  return tf.tidy(() => {
    // Always both parameters: both gradients save them by name.
    const s = scale ?? tf.ones([channels]),
      o = offset ?? tf.zeros([channels]);
    if (tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend()) != null) {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(BATCH_NORM_TRAINING, { x, scale: s, offset: o }, { varianceEpsilon }) as Tensor[];
      return { y: y!, mean: mean!, variance: variance! };
    }
    const { mean, variance } = tf.moments(x, [...Array(x.rank - 1).keys()]);
    return { y: tf.batchNorm(x, mean, variance, o, s, varianceEpsilon), mean, variance };
  });
}

export interface FusedConv2DArgs {
  /** [batch, height, width, inChannels], float32. */
  x: Tensor;
  /** [filterHeight, filterWidth, inChannels, outChannels], float32. */
  filter: Tensor;
  /** [outChannels] or null. */
  bias?: Tensor | null;
  strides: number | [number, number];
  pad: 'same' | 'valid';
  activation?: 'linear' | 'relu';
}

/**
 * relu(conv2d(x, filter) + bias), NHWC, dilation 1: tf.fused.conv2d, except that on the native
 * backend it stays one kernel while gradients are recorded, and its backward pass takes the
 * relu and bias gradients in one native pass (tfjs-core splits it into Conv2D, Add and Relu
 * forward and Step, Multiply and Sum backward when training). Elsewhere it is tf.fused.conv2d.
 */
export function fusedConv2d({ x, filter, bias = null, strides, pad, activation = 'linear' }: FusedConv2DArgs): Tensor {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32' || x.rank !== 4) {
    throw invalidParameterError('x', 'a float32 tensor of rank 4 (NHWC)', x);
  }
  if (
    !(filter instanceof tf.Tensor) ||
    filter.dtype !== 'float32' ||
    filter.rank !== 4 ||
    filter.shape[2] !== x.shape[3]
  ) {
    throw invalidParameterError('filter', `a float32 tensor [height, width, ${x.shape[3]}, outChannels]`, filter);
  }
  checkChannelParameter('bias', bias, filter.shape[3]!);
  if (pad !== 'same' && pad !== 'valid') throw invalidParameterError('pad', "'same' or 'valid'", pad);
  const stride = typeof strides === 'number' ? [strides, strides] : strides;
  if (!Array.isArray(stride) || stride.length !== 2 || !stride.every((s) => Number.isSafeInteger(s) && s >= 1)) {
    throw invalidParameterError('strides', 'a positive integer or a pair of them', strides);
  }
  if (activation !== 'linear' && activation !== 'relu')
    throw invalidParameterError('activation', "'linear' or 'relu'", activation);
  if (tf.getKernel(FUSED_CONV2D, tf.getBackend()) == null) {
    return tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: filter as tf.Tensor4D,
      strides,
      pad,
      bias: bias ?? undefined,
      activation,
    });
  }
  // Always a bias: the gradient saves it by name.
  return tf.tidy(
    () =>
      tf
        .engine()
        .runKernel(
          FUSED_CONV2D,
          { x, filter, bias: bias ?? tf.zeros([filter.shape[3]!]) },
          { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], activation },
        ) as Tensor,
  );
}
