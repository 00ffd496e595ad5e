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

/** Name of the kernel behind the native FusedBatchNorm gradient (gradients.ts); native backend only. */
export const BATCH_NORM_GRAD = 'TtaFusedBatchNormGrad';

/**
 * Outputs dx = dy * scale / sqrt(variance + eps) and sums = [sum of dy, sum of (x - mean) * dy]
 * per channel (channels innermost). No cpu kernel stands behind it: gradients.ts only calls
 * it for float32 inputs with per-channel parameters, and anything else is an error here.
 */
export const batchNormGrad = (({ inputs, backend, attrs }: NativeKernelArgs): TensorInfo[] => {
  const { channels, shape, values } = channelsLastInputs(
    BATCH_NORM_GRAD,
    backend,
    inputs,
    ['x', 'dy'],
    ['mean', 'variance'],
    ['scale'],
  );
  const epsilon = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
  const dx = allocate(values.x!.length);
  const sums = new Float32Array(2 * channels);
  addon.batchNormGrad(
    values.x!,
    values.dy!,
    values.mean!,
    values.variance!,
    values.scale ?? null,
    epsilon,
    channels,
    dx,
    sums,
    kernelThreads,
  );
  return [output(backend, shape.slice(), dx), output(backend, [2 * channels], sums)];
}) as unknown as KernelFunc;

export const batchNormGradConfig: OwnKernelConfig = { kernelName: BATCH_NORM_GRAD, kernelFunc: batchNormGrad };
