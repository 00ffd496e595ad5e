import { MaxPool, util } from '@tensorflow/tfjs-core';
import {
  allocate,
  output,
  pool2d,
  poolDims,
  poolInfo,
  type NativeKernel,
  type NativeKernelConfig,
} from './kernel_utils';
import { defer, fusionEnabled, pendingRecipe } from '../fusion';

const maxPool2d = pool2d(0);

/**
 * The max pooling of a deferred convolution's output (and batch norm) as the end of its block,
 * itself deferred (fusion.ts); else the pooling kernel.
 */
const maxPool: NativeKernel = (args) => {
  const { inputs, backend, attrs } = args;
  const recipe = fusionEnabled() ? pendingRecipe(backend, inputs.x) : undefined;
  if (recipe === undefined || recipe.poolDims !== undefined) return maxPool2d(args);
  const info = poolInfo(inputs.x!.shape, attrs);
  if (info == null || info.dataFormat !== 'channelsLast') return maxPool2d(args);
  const out = allocate(util.sizeFromShape(info.outShape));
  const result = output(backend, info.outShape, out);
  defer(backend, result, out, { ...recipe, poolDims: poolDims(info) });
  return result;
};

export const maxPoolConfig: NativeKernelConfig = { kernelName: MaxPool, nativeKernel: maxPool };
