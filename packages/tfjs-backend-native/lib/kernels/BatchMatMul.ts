import { BatchMatMul, backend_util, util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import {
  activationCode,
  addon,
  allocate,
  f32,
  kernelThreads,
  output,
  type NativeKernelArgs,
  type NativeKernelConfig,
} from './kernel_utils';

/** BatchMatMul, or with `fused` _FusedMatMul (bias and a linear, relu or relu6 activation in the epilogue). */
export function matMul(args: NativeKernelArgs, fused: boolean): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const a = f32(backend, inputs.a);
  const b = f32(backend, inputs.b);
  if (a == null || b == null) return null;
  const aShape = inputs.a!.shape,
    bShape = inputs.b!.shape;
  if (aShape.length < 2 || bShape.length < 2) return null;
  const transA = attrs.transposeA === true,
    transB = attrs.transposeB === true;
  const ra = aShape.length,
    rb = bShape.length;
  const M = transA ? aShape[ra - 1]! : aShape[ra - 2]!;
  const K = transA ? aShape[ra - 2]! : aShape[ra - 1]!;
  const Kb = transB ? bShape[rb - 1]! : bShape[rb - 2]!;
  const N = transB ? bShape[rb - 2]! : bShape[rb - 1]!;
  if (K !== Kb) return null;
  const aOuter = aShape.slice(0, -2),
    bOuter = bShape.slice(0, -2);
  const aBatches = util.sizeFromShape(aOuter),
    bBatches = util.sizeFromShape(bOuter);
  let outer: number[];
  try {
    outer = backend_util.assertAndGetBroadcastShape(aOuter, bOuter);
  } catch {
    return null;
  }
  const batch = util.sizeFromShape(outer);
  // Only whole-batch broadcasting (one operand shared by every batch) maps onto strided GEMMs.
  if ((aBatches !== 1 && aBatches !== batch) || (bBatches !== 1 && bBatches !== batch)) return null;
  if (aBatches === batch && bBatches === batch && !util.arraysEqual(aOuter, bOuter) && batch !== 1) return null;
  let bias: Float32Array | null = null;
  let activation = 0;
  if (fused) {
    const code = activationCode(attrs);
    if (code == null) return null;
    activation = code;
    if (inputs.bias != null) {
      bias = f32(backend, inputs.bias);
      const biasShape = inputs.bias.shape;
      const last = biasShape.length === 0 ? 1 : biasShape[biasShape.length - 1]!;
      if (bias == null || bias.length !== N || last !== N) return null;
    }
  }
  const outShape = [...outer, M, N];
  const out = allocate(util.sizeFromShape(outShape));
  addon.matMul(
    a,
    b,
    bias,
    activation,
    Int32Array.from([batch, aBatches, bBatches, M, N, K, transA ? 1 : 0, transB ? 1 : 0]),
    out,
    kernelThreads,
  );
  return output(backend, outShape, out);
}

export const batchMatMulConfig: NativeKernelConfig = {
  kernelName: BatchMatMul,
  nativeKernel: (args) => matMul(args, false),
};
