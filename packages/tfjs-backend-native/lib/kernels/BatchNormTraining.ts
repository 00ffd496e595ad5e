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

/** Name of the training-mode batch norm kernel (ops.ts's batchNormTraining); native backend only. */
export const BATCH_NORM_TRAINING = 'TtaBatchNormTraining';

/**
 * Outputs [y, mean, variance] with mean and biased variance over every axis but the last,
 * y = offset + (x - mean) * scale / sqrt(variance + varianceEpsilon).
 */
export const batchNormTrainingKernel = (({ inputs, backend, attrs }: NativeKernelArgs): TensorInfo[] => {
  const { channels, shape, values } = channelsLastInputs(
    BATCH_NORM_TRAINING,
    backend,
    inputs,
    ['x'],
    [],
    ['scale', 'offset'],
  );
  const x = values.x!;
  const out = allocate(x.length);
  const mean = new Float32Array(channels),
    variance = new Float32Array(channels);
  addon.batchNormTraining(
    x,
    values.scale ?? null,
    values.offset ?? null,
    attrs.varianceEpsilon as number,
    channels,
    out,
    mean,
    variance,
    kernelThreads,
  );
  return [
    output(backend, shape.slice(), out),
    output(backend, [channels], mean),
    output(backend, [channels], variance),
  ];
}) as unknown as KernelFunc;

export const batchNormTrainingConfig: OwnKernelConfig = {
  kernelName: BATCH_NORM_TRAINING,
  kernelFunc: batchNormTrainingKernel,
};
