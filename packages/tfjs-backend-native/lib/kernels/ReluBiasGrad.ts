import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  addon,
  allocate,
  channelsLastInputs,
  kernelThreads,
  output,
  type NativeKernelArgs,
  type OwnKernelConfig,
} from './kernel_utils';

/** Name of the kernel behind the fused bias + relu gradient (gradients.ts); native backend only. */
export const RELU_BIAS_GRAD = 'TtaReluBiasGrad';

/** Outputs [dy * step(y), its sum over every axis but the last] for a bias + relu epilogue with output y. */
export const reluBiasGradKernel = (({ inputs, backend }: NativeKernelArgs): TensorInfo[] => {
  const { channels, shape, values } = channelsLastInputs(RELU_BIAS_GRAD, backend, inputs, ['dy', 'y'], []);
  const dyOut = allocate(values.dy!.length);
  const dBias = new Float32Array(channels);
  addon.reluBiasGrad(values.dy!, values.y!, channels, dyOut, dBias, kernelThreads);
  return [output(backend, shape.slice(), dyOut), output(backend, [channels], dBias)];
}) as unknown as KernelFunc;

export const reluBiasGradConfig: OwnKernelConfig = { kernelName: RELU_BIAS_GRAD, kernelFunc: reluBiasGradKernel };
