// The elementwise unary kernels, one C++ entry point for all (src/kernels/Elementwise.cc).
import {
  addon,
  allocate,
  f32,
  kernelThreads,
  output,
  type NativeKernel,
  type NativeKernelConfig,
} from './kernel_utils';

/** Unary kernels in the order of src/kernels/Elementwise.h's UnaryOp. */
export const UNARY_OPS = [
  'Exp',
  'Log',
  'Sqrt',
  'Rsqrt',
  'Square',
  'Neg',
  'Abs',
  'Relu',
  'Relu6',
  'Sigmoid',
  'Tanh',
  'Reciprocal',
  'Step',
  'ClipByValue',
] as const;

function unary(op: number, name: string): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (x == null) return null;
    let alpha = 0,
      beta = 0;
    if (name === 'Step') alpha = (attrs.alpha as number | undefined) ?? 0;
    if (name === 'ClipByValue') {
      alpha = attrs.clipValueMin as number;
      beta = attrs.clipValueMax as number;
      if (typeof alpha !== 'number' || typeof beta !== 'number') return null;
    }
    const out = allocate(x.length);
    addon.unary(op, x, out, alpha, beta, kernelThreads);
    return output(backend, inputs.x!.shape.slice(), out);
  };
}

export const unaryConfigs: NativeKernelConfig[] = UNARY_OPS.map((kernelName, op) => ({
  kernelName,
  nativeKernel: unary(op, kernelName),
}));
