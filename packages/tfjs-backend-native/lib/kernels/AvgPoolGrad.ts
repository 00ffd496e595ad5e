import { AvgPoolGrad, util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
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

export const avgPoolGradConfig: NativeKernelConfig = {
  kernelName: AvgPoolGrad,
  nativeKernel: ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy);
    if (dy == null || inputs.input == null) return null;
    const info = poolInfo(inputs.input.shape, { ...attrs, dimRoundingMode: undefined } as unknown as NamedAttrMap);
    if (info == null || !util.arraysEqual(info.outShape, inputs.dy!.shape)) return null;
    const dx = allocate(util.sizeFromShape(inputs.input.shape));
    addon.avgPoolGrad(dy, poolDims(info), dx, kernelThreads);
    return output(backend, inputs.input.shape.slice(), dx);
  },
};
