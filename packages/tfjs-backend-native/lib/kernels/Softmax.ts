import { Softmax } from '@tensorflow/tfjs-core';
import { addon, allocate, f32, kernelThreads, output, type NativeKernelConfig } from './kernel_utils';

export const softmaxConfig: NativeKernelConfig = {
  kernelName: Softmax,
  nativeKernel: ({ inputs, backend, attrs }) => {
    const logits = f32(backend, inputs.logits);
    if (logits == null || logits.length === 0) return null;
    const shape = inputs.logits!.shape;
    const dim = attrs.dim as number;
    if (shape.length === 0 || (dim !== -1 && dim !== shape.length - 1)) return null;
    const cols = shape[shape.length - 1]!;
    const out = allocate(logits.length);
    addon.softmax(logits, logits.length / cols, cols, out, kernelThreads);
    return output(backend, shape.slice(), out);
  },
};
