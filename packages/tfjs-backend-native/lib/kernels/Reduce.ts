// The reductions, one C++ entry point for all (src/kernels/Reduce.cc).
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

/** Reductions in the order of src/kernels/Reduce.h's ReduceOp. */
export const REDUCE_OPS = ['Sum', 'Mean', 'Max', 'Min'] as const;

function reduce(op: number): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (x == null || x.length === 0) return null;
    const shape = inputs.x!.shape;
    if (shape.length > MAX_RANK) return null;
    const axes = util.parseAxisParam((attrs.axis ?? attrs.reductionIndices) as number | number[], shape);
    const reduced = new Int32Array(shape.length);
    for (const axis of axes) reduced[axis] = 1;
    let [outShape] = backend_util.computeOutAndReduceShapes(shape, axes);
    if (attrs.keepDims === true) outShape = backend_util.expandShapeToKeepDim(outShape, axes);
    const out = allocate(util.sizeFromShape(outShape));
    addon.reduce(op, x, Int32Array.from(shape), reduced, out, kernelThreads);
    return output(backend, outShape, out);
  };
}

export const reduceConfigs: NativeKernelConfig[] = REDUCE_OPS.map((kernelName, op) => ({
  kernelName,
  nativeKernel: reduce(op),
}));
