import { Conv2D, util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import {
  activationCode,
  addon,
  allocate,
  conv2dInfo,
  convDims,
  f32,
  kernelThreads,
  output,
  type ConvAttrs,
  type NativeKernelArgs,
  type NativeKernelConfig,
} from './kernel_utils';
import { defer, fusionEnabled } from '../fusion';

/** Conv2D, or with `fused` FusedConv2D (bias and a linear, relu or relu6 activation in the epilogue). */
export function convForward(args: NativeKernelArgs, fused: boolean): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const x = f32(backend, inputs.x);
  const filter = f32(backend, inputs.filter);
  if (x == null || filter == null) return null;
  let bias: Float32Array | null = null;
  let activation = 0;
  if (fused) {
    const code = activationCode(attrs);
    if (code == null) return null;
    activation = code;
    if (inputs.bias != null) {
      bias = f32(backend, inputs.bias);
      if (bias == null) return null;
    }
  }
  const info = conv2dInfo(inputs.x!.shape, inputs.filter!.shape, attrs as unknown as ConvAttrs);
  if (info == null || (bias != null && bias.length !== info.outChannels)) return null;
  const out = allocate(util.sizeFromShape(info.outShape));
  const dims = convDims(info);
  const result = output(backend, info.outShape, out);
  // Deferred, so that a batch norm or max pooling reading it can fuse with it (fusion.ts).
  if (fusionEnabled())
    defer(backend, result, out, { x, filter, bias, activation, convDims: dims, threads: kernelThreads });
  else addon.conv2d(x, filter, bias, activation, dims, out, kernelThreads);
  return result;
}

export const conv2DConfig: NativeKernelConfig = {
  kernelName: Conv2D,
  nativeKernel: (args) => convForward(args, false),
};
