import { Conv2DBackpropFilter, util } from '@tensorflow/tfjs-core';
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

export const conv2DBackpropFilterConfig: NativeKernelConfig = {
  kernelName: Conv2DBackpropFilter,
  nativeKernel: ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    const dy = f32(backend, inputs.dy);
    if (x == null || dy == null) return null;
    const filterShape = attrs.filterShape as number[];
    const info = conv2dInfo(inputs.x!.shape, filterShape, attrs as unknown as ConvAttrs);
    if (info == null || !util.arraysEqual(info.outShape, inputs.dy!.shape)) return null;
    const dw = allocate(util.sizeFromShape(filterShape));
    addon.conv2dBackpropFilter(x, dy, convDims(info), dw, kernelThreads);
    return output(backend, filterShape.slice(), dw);
  },
};
