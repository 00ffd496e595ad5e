import { MaxPoolGrad, util } from '@tensorflow/tfjs-core';
import {
  addon,
  allocate,
  f32,
  kernelThreads,
  output,
  poolDims,
  poolInfo,
  type NativeKernelConfig,
} from './kernel_utils';

export const maxPoolGradConfig: NativeKernelConfig = {
  kernelName: MaxPoolGrad,
  nativeKernel: ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy);
    const x = f32(backend, inputs.input);
    if (dy == null || x == null) return null;
    const info = poolInfo(inputs.input!.shape, attrs);
    if (info == null || !util.arraysEqual(info.outShape, inputs.dy!.shape)) return null;
    const dx = allocate(x.length);
    addon.maxPoolGrad(dy, x, poolDims(info), dx, kernelThreads);
    return output(backend, inputs.input!.shape.slice(), dx);
  },
};
