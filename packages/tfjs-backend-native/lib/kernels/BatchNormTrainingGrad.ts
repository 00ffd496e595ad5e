import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  addon,
  allocate,
  channelsLastInputs,
  kernelThreads,
  output,
  type NativeKernelArgs,
  type OwnKernelConfig,
} from './kernel_utils';

/** Name of batchNormTraining's gradient kernel (gradients.ts); native backend only. */
export const BATCH_NORM_TRAINING_GRAD = 'TtaBatchNormTrainingGrad';

/** Outputs [dx, dScale, dOffset] of batchNormTraining from dy and the gradients reaching its mean and variance. */
export const batchNormTrainingGradKernel = (({ inputs, backend, attrs }: NativeKernelArgs): TensorInfo[] => {
  const { channels, shape, values } = channelsLastInputs(
    BATCH_NORM_TRAINING_GRAD,
    backend,
    inputs,
    ['x', 'dy'],
    ['mean', 'variance'],
    ['scale', 'dMean', 'dVariance'],
  );
  const dx = allocate(values.x!.length);
  const dScale = new Float32Array(channels),
    dOffset = new Float32Array(channels);
  addon.batchNormTrainingGrad(
    values.x!,
    values.dy!,
    values.scale ?? null,
    values.mean!,
    values.variance!,
    values.dMean ?? null,
    values.dVariance ?? null,
    attrs.varianceEpsilon as number,
    channels,
    dx,
    dScale,
    dOffset,
    kernelThreads,
  );
  return [
    output(backend, shape.slice(), dx),
    output(backend, [channels], dScale),
    output(backend, [channels], dOffset),
  ];
}) as unknown as KernelFunc;

export const batchNormTrainingGradConfig: OwnKernelConfig = {
  kernelName: BATCH_NORM_TRAINING_GRAD,
  kernelFunc: batchNormTrainingGradKernel,
};
