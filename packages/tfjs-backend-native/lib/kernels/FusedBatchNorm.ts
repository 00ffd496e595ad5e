import { FusedBatchNorm } from '@tensorflow/tfjs-core';
import { addon, allocate, f32, kernelThreads, output, type NativeKernelConfig } from './kernel_utils';

export const fusedBatchNormConfig: NativeKernelConfig = {
  kernelName: FusedBatchNorm,
  nativeKernel: ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    const mean = f32(backend, inputs.mean);
    const variance = f32(backend, inputs.variance);
    if (x == null || mean == null || variance == null || x.length === 0) return null;
    const offset = inputs.offset == null ? null : f32(backend, inputs.offset);
    const scale = inputs.scale == null ? null : f32(backend, inputs.scale);
    if ((inputs.offset != null && offset == null) || (inputs.scale != null && scale == null)) return null;
    const shape = inputs.x!.shape;
    const channels = shape.length === 0 ? 1 : shape[shape.length - 1]!;
    if (channels === 0) return null;
    for (const p of [mean, variance, offset, scale]) {
      if (p != null && p.length !== 1 && p.length !== channels) return null;
    }
    const epsilon = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
    const out = allocate(x.length);
    addon.batchNorm(x, mean, variance, offset, scale, epsilon, channels, out, kernelThreads);
    return output(backend, shape.slice(), out);
  },
};
