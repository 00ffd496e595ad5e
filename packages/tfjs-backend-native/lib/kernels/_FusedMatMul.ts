import { _FusedMatMul } from '@tensorflow/tfjs-core';
import { matMul } from './BatchMatMul';
import type { NativeKernelConfig } from './kernel_utils';

export const fusedMatMulConfig: NativeKernelConfig = {
  kernelName: _FusedMatMul,
  nativeKernel: (args) => matMul(args, true),
};
