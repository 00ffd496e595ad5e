import {
  AvgPool,
  AvgPoolGrad,
  BatchMatMul,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  FusedBatchNorm,
  FusedConv2D,
  MaxPool,
  MaxPoolGrad,
  Softmax,
  Tile,
  _FusedMatMul,
  backend_util,
  util,
} from '@tensorflow/tfjs-core';
import type { DataType, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { addon, defaultThreads } from './addon';
import { bufferPool } from './memory';

/**
 * A native kernel: the output, or null when the inputs or attributes are outside what
 * the C++ handles (another dtype, dilation, NCHW, an unfused activation...), in which
 * case the inherited cpu kernel runs instead.
 */
export type NativeKernel = (args: {
  inputs: Record<string, TensorInfo | null | undefined>;
  backend: MathBackendCPU;
  attrs: NamedAttrMap;
}) => TensorInfo | null;

/** Threads for the C++ kernels; TTA_NATIVE_THREADS overrides the core count. */
export const kernelThreads: number = (() => {
  const fromEnv = Number(process.env.TTA_NATIVE_THREADS);
  return Number.isInteger(fromEnv) && fromEnv >= 1 && fromEnv <= 1024 ? fromEnv : defaultThreads;
})();

const MAX_RANK = 8;

function f32(backend: MathBackendCPU, t: TensorInfo | null | undefined): Float32Array | null {
  if (t == null || t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array && values.length === util.sizeFromShape(t.shape) ? values : null;
}

/**
 * A float32 output buffer with arbitrary contents: every native kernel writes its whole
 * output. Large ones come from (and return to) the backend's buffer pool (memory.ts).
 */
export function allocate(length: number): Float32Array {
  return bufferPool.take(length);
}

function output(
  backend: MathBackendCPU,
  shape: number[],
  values: Float32Array,
  dtype: DataType = 'float32',
): TensorInfo {
  return backend.makeTensorInfo(shape, dtype, values);
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

function activationCode(attrs: NamedAttrMap): number | null {
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  return ACTIVATIONS[activation] ?? null;
}

function convDims(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
  ]);
}

function poolDims(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
  ]);
}

function supportedConv(info: backend_util.Conv2DInfo): boolean {
  return info.dataFormat === 'channelsLast' && info.dilationHeight === 1 && info.dilationWidth === 1;
}

type ConvAttrs = {
  strides: [number, number] | number;
  pad: backend_util.PadInfo['type'] | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

function conv2dInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): backend_util.Conv2DInfo | null {
  if (xShape.length !== 4 || filterShape.length !== 4) return null;
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad as 'same',
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC'),
  );
  return supportedConv(info) ? info : null;
}

function convForward(args: Parameters<NativeKernel>[0], fused: boolean): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const x = f32(backend, inputs.x);
  const filter = f32(backend, inputs.filter);
  if (x == null || filter == null) return null;
  let bias: Float32Array | null = null;
  let activation = 0;
  if (fused) {
    const code = activationCode(attrs);
    if (code == null) return null;
    activation = code;
    if (inputs.bias != null) {
      bias = f32(backend, inputs.bias);
      if (bias == null) return null;
    }
  }
  const info = conv2dInfo(inputs.x!.shape, inputs.filter!.shape, attrs as unknown as ConvAttrs);
  if (info == null || (bias != null && bias.length !== info.outChannels)) return null;
  const out = allocate(util.sizeFromShape(info.outShape));
  addon.conv2d(x, filter, bias, activation, convDims(info), out, kernelThreads);
  return output(backend, info.outShape, out);
}

function poolInfo(xShape: number[], attrs: NamedAttrMap): backend_util.Conv2DInfo | null {
  if (xShape.length !== 4) return null;
  return backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined,
  );
}

function pool(kind: 0 | 1): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (x == null) return null;
    const info = poolInfo(inputs.x!.shape, attrs);
    if (info == null) return null;
    const out = allocate(util.sizeFromShape(info.outShape));
    addon.pool2d(x, kind, poolDims(info), out, kernelThreads);
    return output(backend, info.outShape, out);
  };
}

function matMul(args: Parameters<NativeKernel>[0], fused: boolean): TensorInfo | null {
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

/** Binary kernels in the order of src/elementwise.h's BinaryOp. */
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

/** Unary kernels in the order of src/elementwise.h's UnaryOp. */
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

/** Reductions in the order of src/reduce.h's ReduceOp. */
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

/** Every kernel implemented natively, by kernel name. */
export const nativeKernels: Record<string, NativeKernel> = {
  [Conv2D]: (args) => convForward(args, false),
  [FusedConv2D]: (args) => convForward(args, true),
  [Conv2DBackpropInput]: ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy);
    const filter = f32(backend, inputs.filter);
    if (dy == null || filter == null) return null;
    const inputShape = attrs.inputShape as number[];
    const info = conv2dInfo(inputShape, inputs.filter!.shape, attrs as unknown as ConvAttrs);
    if (info == null || !util.arraysEqual(info.outShape, inputs.dy!.shape)) return null;
    const dx = allocate(util.sizeFromShape(info.inShape));
    addon.conv2dBackpropInput(dy, filter, convDims(info), dx, kernelThreads);
    return output(backend, info.inShape.slice(), dx);
  },
  [Conv2DBackpropFilter]: ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    const dy = f32(backend, inputs.dy);
    if (x == null || dy == null) return null;
    const filterShape = attrs.filterShape as number[];
    const info = conv2dInfo(inputs.x!.shape, filterShape, attrs as unknown as ConvAttrs);
    if (info == null || !util.arraysEqual(info.outShape, inputs.dy!.shape)) return null;
    const dw = allocate(util.sizeFromShape(filterShape));
    addon.conv2dBackpropFilter(x, dy, convDims(info), dw, kernelThreads);
    return output(backend, filterShape.slice(), dw);
  },
  [MaxPool]: pool(0),
  [AvgPool]: pool(1),
  [MaxPoolGrad]: ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy);
    const x = f32(backend, inputs.input);
    if (dy == null || x == null) return null;
    const info = poolInfo(inputs.input!.shape, attrs);
    if (info == null || !util.arraysEqual(info.outShape, inputs.dy!.shape)) return null;
    const dx = allocate(x.length);
    addon.maxPoolGrad(dy, x, poolDims(info), dx, kernelThreads);
    return output(backend, inputs.input!.shape.slice(), dx);
  },
  [AvgPoolGrad]: ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy);
    if (dy == null || inputs.input == null) return null;
    const info = poolInfo(inputs.input.shape, { ...attrs, dimRoundingMode: undefined } as unknown as NamedAttrMap);
    if (info == null || !util.arraysEqual(info.outShape, inputs.dy!.shape)) return null;
    const dx = allocate(util.sizeFromShape(inputs.input.shape));
    addon.avgPoolGrad(dy, poolDims(info), dx, kernelThreads);
    return output(backend, inputs.input.shape.slice(), dx);
  },
  [BatchMatMul]: (args) => matMul(args, false),
  [_FusedMatMul]: (args) => matMul(args, true),
  [FusedBatchNorm]: ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    const mean = f32(backend, inputs.mean);
    const variance = f32(backend, inputs.variance);
    if (x == null || mean == null || variance == null || x.length === 0) return null;
    const offset = inputs.offset == null ? null : f32(backend, inputs.offset);
    const scale = inputs.scale == null ? null : f32(backend, inputs.scale);
    if ((inputs.offset != null && offset == null) || (inputs.scale != null && scale == null)) return null;
    const shape = inputs.x!.shape;
    const channels = shape.length === 0 ? 1 : shape[shape.length - 1]!;
    if (channels === 0) return null;
    for (const p of [mean, variance, offset, scale]) {
      if (p != null && p.length !== 1 && p.length !== channels) return null;
    }
    const epsilon = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
    const out = allocate(x.length);
    addon.batchNorm(x, mean, variance, offset, scale, epsilon, channels, out, kernelThreads);
    return output(backend, shape.slice(), out);
  },
  [Tile]: ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    const shape = inputs.x?.shape ?? [];
    const reps = attrs.reps as number[];
    if (
      x == null ||
      shape.length === 0 ||
      shape.length > MAX_RANK ||
      !Array.isArray(reps) ||
      reps.length !== shape.length
    )
      return null;
    const outShape = shape.map((n, i) => n * reps[i]!);
    const out = allocate(util.sizeFromShape(outShape));
    addon.tile(x, Int32Array.from(shape), Int32Array.from(reps), out);
    return output(backend, outShape, out);
  },
  [Softmax]: ({ inputs, backend, attrs }) => {
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
/** Name of the kernel behind the native FusedBatchNorm gradient (gradients.ts); native backend only. */
export const BATCH_NORM_GRAD = 'TtaFusedBatchNormGrad';

/**
 * Outputs dx = dy * scale / sqrt(variance + eps) and sums = [sum of dy, sum of (x - mean) * dy]
 * per channel (channels innermost). No cpu kernel stands behind it: gradients.ts only calls
 * it for float32 inputs with per-channel parameters, and anything else is an error here.
 */
export const batchNormGrad = (({ inputs, backend, attrs }: Parameters<NativeKernel>[0]): TensorInfo[] => {
  const { channels, shape, values } = channelsLastInputs(
    BATCH_NORM_GRAD,
    backend,
    inputs,
    ['x', 'dy'],
    ['mean', 'variance'],
    ['scale'],
  );
  const epsilon = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
  const dx = allocate(values.x!.length);
  const sums = new Float32Array(2 * channels);
  addon.batchNormGrad(
    values.x!,
    values.dy!,
    values.mean!,
    values.variance!,
    values.scale ?? null,
    epsilon,
    channels,
    dx,
    sums,
    kernelThreads,
  );
  return [output(backend, shape.slice(), dx), output(backend, [2 * channels], sums)];
}) as unknown as KernelFunc;

/** Name of the training-mode batch norm kernel (ops.ts's batchNormTraining); native backend only. */
export const BATCH_NORM_TRAINING = 'TtaBatchNormTraining';
/** Name of its gradient's kernel (gradients.ts). */
export const BATCH_NORM_TRAINING_GRAD = 'TtaBatchNormTrainingGrad';

/**
 * t's values as a Float32Array, converted when the cpu backend stores a float32 tensor in
 * another array (its int32 -> float32 Cast keeps the Int32Array), or null for other dtypes.
 * For the kernels that have no cpu kernel to fall back to.
 */
function float32Values(backend: MathBackendCPU, t: TensorInfo): Float32Array | null {
  const direct = f32(backend, t);
  if (direct != null || t.dtype !== 'float32') return direct;
  const values = backend.data.get(t.dataId).values;
  return ArrayBuffer.isView(values) &&
    !(values instanceof DataView) &&
    (values as Float32Array).length === util.sizeFromShape(t.shape)
    ? Float32Array.from(values as unknown as ArrayLike<number>)
    : null;
}

/**
 * The float32 values of a channels-innermost kernel's inputs: `full` ones share the first's
 * shape, `perChannel` ones hold its last dimension, `optional` per-channel ones may be absent.
 * Anything else is an error naming the kernel: no cpu kernel stands behind these.
 */
function channelsLastInputs(
  kernelName: string,
  backend: MathBackendCPU,
  inputs: Record<string, TensorInfo | null | undefined>,
  full: string[],
  perChannel: string[],
  optional: string[] = [],
): { channels: number; shape: number[]; values: Record<string, Float32Array | null> } {
  const shape = inputs[full[0]!]?.shape ?? [];
  const channels = shape[shape.length - 1] ?? 0;
  const values: Record<string, Float32Array | null> = {};
  const fail = (what: string): never => {
    throw new Error(`native: ${kernelName} needs ${what}`);
  };
  if (shape.length === 0 || channels === 0 || util.sizeFromShape(shape) === 0)
    fail(`a non-empty float32 ${full[0]} with channels innermost, got shape [${shape}]`);
  for (const name of [...full, ...perChannel, ...optional]) {
    const t = inputs[name];
    if (t == null) {
      if (!optional.includes(name)) fail(`input ${name}`);
      values[name] = null;
      continue;
    }
    const v = float32Values(backend, t);
    const expected = full.includes(name) ? shape : [channels];
    if (v == null || !util.arraysEqual(t.shape, expected))
      fail(`float32 ${name} of shape [${expected}], got ${t.dtype} [${t.shape}]`);
    values[name] = v;
  }
  return { channels, shape, values };
}

/**
 * Outputs [y, mean, variance] with mean and biased variance over every axis but the last,
 * y = offset + (x - mean) * scale / sqrt(variance + varianceEpsilon).
 */
export const batchNormTrainingKernel = (({ inputs, backend, attrs }: Parameters<NativeKernel>[0]): TensorInfo[] => {
  const { channels, shape, values } = channelsLastInputs(
    BATCH_NORM_TRAINING,
    backend,
    inputs,
    ['x'],
    [],
    ['scale', 'offset'],
  );
  const x = values.x!;
  const out = allocate(x.length);
  const mean = new Float32Array(channels),
    variance = new Float32Array(channels);
  addon.batchNormTraining(
    x,
    values.scale ?? null,
    values.offset ?? null,
    attrs.varianceEpsilon as number,
    channels,
    out,
    mean,
    variance,
    kernelThreads,
  );
  return [
    output(backend, shape.slice(), out),
    output(backend, [channels], mean),
    output(backend, [channels], variance),
  ];
}) as unknown as KernelFunc;

/** Outputs [dx, dScale, dOffset] of batchNormTraining from dy and the gradients reaching its mean and variance. */
export const batchNormTrainingGradKernel = (({ inputs, backend, attrs }: Parameters<NativeKernel>[0]): TensorInfo[] => {
  const { channels, shape, values } = channelsLastInputs(
    BATCH_NORM_TRAINING_GRAD,
    backend,
    inputs,
    ['x', 'dy'],
    ['mean', 'variance'],
    ['scale', 'dMean', 'dVariance'],
  );
  const dx = allocate(values.x!.length);
  const dScale = new Float32Array(channels),
    dOffset = new Float32Array(channels);
  addon.batchNormTrainingGrad(
    values.x!,
    values.dy!,
    values.scale ?? null,
    values.mean!,
    values.variance!,
    values.dMean ?? null,
    values.dVariance ?? null,
    attrs.varianceEpsilon as number,
    channels,
    dx,
    dScale,
    dOffset,
    kernelThreads,
  );
  return [
    output(backend, shape.slice(), dx),
    output(backend, [channels], dScale),
    output(backend, [channels], dOffset),
  ];
}) as unknown as KernelFunc;

/**
 * FusedConv2D under the name ops.ts's fusedConv2d runs, so that its gradient (gradients.ts)
 * belongs to this backend's op alone and tfjs' own FusedConv2D keeps having none.
 */
export const FUSED_CONV2D = 'TtaFusedConv2D';

/** Name of the kernel behind the fused bias + relu gradient (gradients.ts); native backend only. */
export const RELU_BIAS_GRAD = 'TtaReluBiasGrad';

/** Outputs [dy * step(y), its sum over every axis but the last] for a bias + relu epilogue with output y. */
export const reluBiasGradKernel = (({ inputs, backend }: Parameters<NativeKernel>[0]): TensorInfo[] => {
  const { channels, shape, values } = channelsLastInputs(RELU_BIAS_GRAD, backend, inputs, ['dy', 'y'], []);
  const dyOut = allocate(values.dy!.length);
  const dBias = new Float32Array(channels);
  addon.reluBiasGrad(values.dy!, values.y!, channels, dyOut, dBias, kernelThreads);
  return [output(backend, shape.slice(), dyOut), output(backend, [channels], dBias)];
}) as unknown as KernelFunc;

/** Name of the fused Adam update kernel (optimizers.ts); native backend only. */
export const ADAM_UPDATE = 'TtaAdamUpdate';

/**
 * Outputs [value', m', v'] of one Adam step for one variable, from value, m, v and gradient
 * (float32, one shape) and the attributes learningRate, beta1, beta2, epsilon and the bias
 * corrections oneMinusAccBeta1 and oneMinusAccBeta2.
 */
export const adamUpdateKernel = (({ inputs, backend, attrs }: Parameters<NativeKernel>[0]): TensorInfo[] => {
  const shape = inputs.value?.shape ?? [];
  const values = (['value', 'm', 'v', 'gradient'] as const).map((name) => {
    const t = inputs[name];
    const data = t == null ? null : float32Values(backend, t);
    if (t == null || data == null || !util.arraysEqual(t.shape, shape)) {
      throw new Error(
        `native: ${ADAM_UPDATE} needs float32 value, m, v and gradient of one shape, got ${name} ${t == null ? 'missing' : `${t.dtype} [${t.shape}]`}`,
      );
    }
    return data;
  });
  const n = values[0]!.length;
  const outs = [allocate(n), allocate(n), allocate(n)] as const;
  const a = attrs as Record<string, number>;
  addon.adamUpdate(
    values[0]!,
    values[1]!,
    values[2]!,
    values[3]!,
    a.learningRate!,
    a.beta1!,
    a.beta2!,
    a.epsilon!,
    a.oneMinusAccBeta1!,
    a.oneMinusAccBeta2!,
    outs[0],
    outs[1],
    outs[2],
    kernelThreads,
  );
  return outs.map((o) => output(backend, shape.slice(), o));
}) as unknown as KernelFunc;

BINARY_OPS.forEach((name, op) => {
  nativeKernels[name] = binary(op);
});
UNARY_OPS.forEach((name, op) => {
  nativeKernels[name] = unary(op, name);
});
REDUCE_OPS.forEach((name, op) => {
  nativeKernels[name] = reduce(op);
});

/** A kernel function that runs the native kernel, or `fallback` (the cpu kernel) when it declines. */
export function withFallback(native: NativeKernel, fallback: KernelFunc): KernelFunc {
  return ((args: Parameters<NativeKernel>[0]) => native(args) ?? fallback(args as never)) as unknown as KernelFunc;
}
