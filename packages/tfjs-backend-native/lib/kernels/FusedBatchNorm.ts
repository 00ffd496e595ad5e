import { FusedBatchNorm, util } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { addon, allocate, f32, kernelThreads, output, type NativeKernelConfig } from './kernel_utils';
import { defer, fusionEnabled, pendingRecipe } from '../fusion';

/**
 * The batch norm of a deferred convolution's output (NHWC, per-channel parameters) as part of
 * its block, itself deferred (fusion.ts); null when there is no such convolution to join.
 */
function fuseIntoBlock(
  backend: MathBackendCPU,
  inputs: Record<string, TensorInfo | null | undefined>,
  attrs: NamedAttrMap,
): TensorInfo | null {
  const recipe = fusionEnabled() ? pendingRecipe(backend, inputs.x) : undefined;
  if (recipe === undefined || recipe.batchNorm !== undefined || recipe.poolDims !== undefined) return null;
  const shape = inputs.x!.shape;
  const channels = shape[3]!;
  const perChannel = (t: TensorInfo | null | undefined): Float32Array | null => {
    const values = f32(backend, t);
    return values != null && (values.length === 1 || values.length === channels) ? values : null;
  };
  const mean = perChannel(inputs.mean);
  const variance = perChannel(inputs.variance);
  const offset = inputs.offset == null ? null : perChannel(inputs.offset);
  const scale = inputs.scale == null ? null : perChannel(inputs.scale);
  if (
    mean == null ||
    variance == null ||
    (inputs.offset != null && offset == null) ||
    (inputs.scale != null && scale == null)
  )
    return null;
  const epsilon = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
  const out = allocate(util.sizeFromShape(shape));
  const result = output(backend, shape.slice(), out);
  defer(backend, result, out, { ...recipe, batchNorm: { mean, variance, offset, scale, epsilon } });
  return result;
}

export const fusedBatchNormConfig: NativeKernelConfig = {
  kernelName: FusedBatchNorm,
  nativeKernel: ({ inputs, backend, attrs }) => {
    const block = fuseIntoBlock(backend, inputs, attrs);
    if (block != null) return block;
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
