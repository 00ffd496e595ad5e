import { Conv2DBackpropInput, util } from '@tensorflow/tfjs-core';
import {
  addon,
  allocate,
  conv2dInfo,
  convDims,
  f32,
  kernelThreads,
  output,
  type ConvAttrs,
  type NativeKernelConfig,
} from './kernel_utils';

export const conv2DBackpropInputConfig: NativeKernelConfig = {
  kernelName: Conv2DBackpropInput,
  nativeKernel: ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy);
    const filter = f32(backend, inputs.filter);
    if (dy == null || filter == null) return null;
    const inputShape = attrs.inputShape as number[];
    const info = conv2dInfo(inputShape, inputs.filter!.shape, attrs as unknown as ConvAttrs);
    if (info == null || !util.arraysEqual(info.outShape, inputs.dy!.shape)) return null;
    const dx = allocate(util.sizeFromShape(info.inShape));
    addon.conv2dBackpropInput(dy, filter, convDims(info), dx, kernelThreads);
    return output(backend, info.inShape.slice(), dx);
  },
};
