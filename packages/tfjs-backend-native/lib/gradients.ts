/**
 * Gradients that tfjs-core composes of many full-size elementwise passes, fused. Profiling the
 * reference CNN's training step on this backend (tf.profile) showed batch norm's backward pass
 * dominating: FusedBatchNorm's gradient is about fourteen ops over every activation (a Tile,
 * several Multiply, Sum), and each Mean in `tf.moments` sends its gradient back through a
 * full-size `ones`, a Multiply and a RealDiv. Here FusedBatchNorm's gradient is one native
 * pass and Mean's a single Tile.
 *
 * Gradients are registered per kernel name for every backend at once, so each override keeps
 * tfjs' own gradient for other backends and for whatever the fused path does not take.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropFilter, Conv2DBackpropInput, FusedBatchNorm, Mean } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, NamedTensorMap, Tensor } from '@tensorflow/tfjs-core';
import { BATCH_NORM_GRAD } from './kernels/BatchNormGrad';
import { BATCH_NORM_TRAINING } from './kernels/BatchNormTraining';
import { BATCH_NORM_TRAINING_GRAD } from './kernels/BatchNormTrainingGrad';
import { FUSED_CONV2D } from './kernels/FusedConv2D';
import { RELU_BIAS_GRAD } from './kernels/ReluBiasGrad';

const FUSED = Symbol('tta.fusedGradient');

type NamedGradientMap = Record<string, () => Tensor>;
type FusedGradient = (dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => NamedGradientMap | null;

/** Replaces kernelName's gradient by `fused` while `backendName` runs, once; null from `fused` means tfjs' own. */
function overrideGradient(kernelName: string, backendName: string, fused: FusedGradient): void {
  const original = tf.getGradient(kernelName) as (GradConfig & { [FUSED]?: true }) | undefined;
  if (original == null || original[FUSED]) return;
  const config: GradConfig & { [FUSED]: true } = {
    [FUSED]: true,
    kernelName,
    inputsToSave: original.inputsToSave,
    outputsToSave: original.outputsToSave,
    saveAllInputs: original.saveAllInputs,
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) =>
      (!Array.isArray(dy) && dy.dtype === 'float32' && tf.getBackend() === backendName
        ? fused(dy, saved, attrs)
        : null) ?? original.gradFunc(dy, saved, attrs),
  };
  tf.registerGradient(config);
}

const batchNormGradient: FusedGradient = (dy, saved, attrs) => {
  const [x, mean, variance, scale] = saved;
  if (x == null || mean == null || variance == null) return null;
  const channels = x.shape[x.rank - 1];
  const perChannel = (t: Tensor) => t.dtype === 'float32' && t.rank === 1 && t.size === channels;
  if (
    channels === undefined ||
    channels === 0 ||
    x.size === 0 ||
    x.dtype !== 'float32' ||
    !tf.util.arraysEqual(dy.shape, x.shape) ||
    !perChannel(mean) ||
    !perChannel(variance) ||
    (scale != null && !perChannel(scale))
  )
    return null;

  const epsilon = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
  const inputs: NamedTensorMap = { x, dy, mean, variance };
  if (scale != null) inputs.scale = scale;
  // dx = dy * scale * r with r = 1 / sqrt(variance + eps), and per channel sum(dy), sum((x - mean) * dy).
  const [dx, sums] = tf.engine().runKernel(BATCH_NORM_GRAD, inputs, { varianceEpsilon: epsilon }) as Tensor[];
  const sumDy = tf.slice(sums!, [0], [channels]);
  const sumDyXmu = tf.slice(sums!, [channels], [channels]);
  const r = tf.rsqrt(tf.add(variance, tf.scalar(epsilon)));
  const scaleValue = scale ?? tf.scalar(1);
  // The same formulas as tfjs-core's FusedBatchNorm gradient, with its sums taken natively.
  return {
    x: () => dx!,
    mean: () => tf.reshape(tf.mul(tf.neg(tf.mul(r, scaleValue)), sumDy), mean.shape),
    variance: () =>
      tf.reshape(tf.mul(tf.mul(tf.mul(tf.mul(tf.mul(r, r), r), tf.scalar(-0.5)), scaleValue), sumDyXmu), mean.shape),
    scale: () => tf.reshape(tf.mul(r, sumDyXmu), mean.shape),
    offset: () => tf.reshape(sumDy, mean.shape),
  };
};

const meanGradient: FusedGradient = (dy, saved, attrs) => {
  const [x] = saved;
  if (x == null || x.size === 0) return null;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
  const expanded = x.shape.slice();
  const reps = x.shape.map(() => 1);
  let reduceSize = 1;
  for (const axis of axes) {
    expanded[axis] = 1;
    reps[axis] = x.shape[axis]!;
    reduceSize *= x.shape[axis]!;
  }
  // tfjs: (dy * ones(x.shape)) / n. Dividing before broadcasting gives the same float32 values.
  return { x: () => tf.tile(tf.reshape(tf.div(dy, reduceSize), expanded), reps) };
};

/** Makes the fused gradients run on `backendName` (once; later calls do nothing). */
export function registerFusedGradients(backendName: string): void {
  overrideGradient(FusedBatchNorm, backendName, batchNormGradient);
  overrideGradient(Mean, backendName, meanGradient);
}

/**
 * The gradient of ops.ts's batchNormTraining kernel: one native kernel for dx, dScale and
 * dOffset, differentiated through the batch statistics (tfjs fills the gradients of unused
 * mean and variance outputs with zeros).
 */
export function registerBatchNormTrainingGradient(): void {
  if (tf.getGradient(BATCH_NORM_TRAINING) != null) return;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [dy, dMean, dVariance] = dys as Tensor[];
      const [x, scale, mean, variance] = saved;
      const [dx, dScale, dOffset] = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAINING_GRAD,
          { x: x!, dy: dy!, scale: scale!, mean: mean!, variance: variance!, dMean: dMean!, dVariance: dVariance! },
          { varianceEpsilon: attrs.varianceEpsilon as number },
        ) as Tensor[];
      return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
    },
  });
}

/**
 * The gradient of ops.ts's fused convolution kernel (FusedConv2D under its own name) with a
 * relu or linear epilogue, so that fusedConv2d stays one kernel while gradients are recorded
 * (tfjs-core's fused.conv2d splits into Conv2D, Add and Relu then, and its backward pass
 * into Step, Multiply and Sum over the whole activation). The relu and bias gradients are
 * one native pass.
 */
export function registerFusedConv2DGradient(): void {
  if (tf.getGradient(FUSED_CONV2D) != null) return;
  tf.registerGradient({
    kernelName: FUSED_CONV2D,
    inputsToSave: ['x', 'filter', 'bias'],
    outputsToSave: [true],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, filter, bias, y] = saved as [Tensor, Tensor, Tensor, Tensor];
      const activation = (attrs.activation as string | undefined) ?? 'linear';
      const dyOut = dy as Tensor;
      let dyActivation: Tensor, dBias: Tensor;
      if (activation === 'relu') {
        [dyActivation, dBias] = tf.engine().runKernel(RELU_BIAS_GRAD, { dy: dyOut, y }, {}) as [Tensor, Tensor];
      } else if (activation === 'linear') {
        dyActivation = dyOut;
        dBias = tf.sum(dyOut, [0, 1, 2]);
      } else {
        throw new Error(
          `native: no gradient for ${FUSED_CONV2D} with activation '${activation}' (relu and linear have one)`,
        );
      }
      const conv = {
        strides: attrs.strides,
        pad: attrs.pad,
        dataFormat: attrs.dataFormat,
        dimRoundingMode: attrs.dimRoundingMode,
      } as NamedAttrMap;
      return {
        x: () =>
          tf
            .engine()
            .runKernel(Conv2DBackpropInput, { dy: dyActivation, filter }, { ...conv, inputShape: x.shape }) as Tensor,
        filter: () =>
          tf
            .engine()
            .runKernel(Conv2DBackpropFilter, { x, dy: dyActivation }, { ...conv, filterShape: filter.shape }) as Tensor,
        bias: () => tf.reshape(dBias, bias.shape),
      };
    },
  });
}
