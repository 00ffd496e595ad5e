// The broadcasting binary kernels, one C++ entry point for all (src/kernels/Elementwise.cc).
import { backend_util, util } from '@tensorflow/tfjs-core';
import {
  MAX_RANK,
  addon,
  allocate,
  f32,
  kernelThreads,
  output,
  type NativeKernel,
  type NativeKernelConfig,
} from './kernel_utils';

/** Binary kernels in the order of src/kernels/Elementwise.h's BinaryOp. */
export const BINARY_OPS = ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'SquaredDifference'] as const;

function binary(op: number): NativeKernel {
  return ({ inputs, backend }) => {
    const a = f32(backend, inputs.a);
    const b = f32(backend, inputs.b);
    if (a == null || b == null) return null;
    const aShape = inputs.a!.shape,
      bShape = inputs.b!.shape;
    let outShape: number[];
    try {
      outShape = backend_util.assertAndGetBroadcastShape(aShape, bShape);
    } catch {
      return null;
    }
    const rank = outShape.length;
    if (rank > MAX_RANK) return null;
    const strides = (shape: number[]): Int32Array => {
      const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
      const result = new Int32Array(rank);
      let stride = 1;
      for (let d = rank - 1; d >= 0; --d) {
        result[d] = padded[d] === 1 ? 0 : stride;
        stride *= padded[d]!;
      }
      return result;
    };
    const out = allocate(util.sizeFromShape(outShape));
    addon.binary(op, a, strides(aShape), b, strides(bShape), Int32Array.from(outShape), out, kernelThreads);
    return output(backend, outShape, out);
  };
}

export const binaryConfigs: NativeKernelConfig[] = BINARY_OPS.map((kernelName, op) => ({
  kernelName,
  nativeKernel: binary(op),
}));
