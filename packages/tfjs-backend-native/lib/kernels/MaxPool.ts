import { MaxPool } from '@tensorflow/tfjs-core';
import { pool2d, type NativeKernelConfig } from './kernel_utils';

export const maxPoolConfig: NativeKernelConfig = { kernelName: MaxPool, nativeKernel: pool2d(0) };
