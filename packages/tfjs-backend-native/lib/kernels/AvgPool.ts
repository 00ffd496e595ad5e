import { AvgPool } from '@tensorflow/tfjs-core';
import { pool2d, type NativeKernelConfig } from './kernel_utils';

export const avgPoolConfig: NativeKernelConfig = { kernelName: AvgPool, nativeKernel: pool2d(1) };
