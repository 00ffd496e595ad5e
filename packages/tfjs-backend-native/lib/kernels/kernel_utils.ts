// What the kernel files share: reading a tensor's float32 values, allocating outputs from the
// buffer pool, and the convolution and pooling geometry handed to the addon.
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { DataType, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { addon, defaultThreads } from '../addon';
import { bufferPool } from '../memory';

export { addon };

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

export type NativeKernelArgs = Parameters<NativeKernel>[0];

/** A native kernel standing in for the cpu kernel of the same name, which stays its fallback. */
export interface NativeKernelConfig {
  kernelName: string;
  nativeKernel: NativeKernel;
}

/** A kernel of this backend's own (a fused op): no cpu kernel stands behind it. */
export interface OwnKernelConfig {
  kernelName: string;
  kernelFunc: KernelFunc;
}

/** Threads for the C++ kernels; TTA_NATIVE_THREADS overrides the core count. */
export const kernelThreads: number = (() => {
  const fromEnv = Number(process.env.TTA_NATIVE_THREADS);
  return Number.isInteger(fromEnv) && fromEnv >= 1 && fromEnv <= 1024 ? fromEnv : defaultThreads;
})();

export const MAX_RANK = 8;

export function f32(backend: MathBackendCPU, t: TensorInfo | null | undefined): Float32Array | null {
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

export function output(
  backend: MathBackendCPU,
  shape: number[],
  values: Float32Array,
  dtype: DataType = 'float32',
): TensorInfo {
  return backend.makeTensorInfo(shape, dtype, values);
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

export function activationCode(attrs: NamedAttrMap): number | null {
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  return ACTIVATIONS[activation] ?? null;
}

export function convDims(info: backend_util.Conv2DInfo): Int32Array {
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

export function poolDims(info: backend_util.Conv2DInfo): Int32Array {
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

export type ConvAttrs = {
  strides: [number, number] | number;
  pad: backend_util.PadInfo['type'] | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

export function conv2dInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): backend_util.Conv2DInfo | null {
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

export function poolInfo(xShape: number[], attrs: NamedAttrMap): backend_util.Conv2DInfo | null {
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

/** MaxPool (kind 0) or AvgPool (kind 1), NHWC. */
export function pool2d(kind: 0 | 1): NativeKernel {
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

/**
 * t's values as a Float32Array, converted when the cpu backend stores a float32 tensor in
 * another array (its int32 -> float32 Cast keeps the Int32Array), or null for other dtypes.
 * For the kernels that have no cpu kernel to fall back to.
 */
export function float32Values(backend: MathBackendCPU, t: TensorInfo): Float32Array | null {
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
export function channelsLastInputs(
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

/** A kernel function that runs the native kernel, or `fallback` (the cpu kernel) when it declines. */
export function withFallback(native: NativeKernel, fallback: KernelFunc): KernelFunc {
  return ((args: NativeKernelArgs) => native(args) ?? fallback(args as never)) as unknown as KernelFunc;
}
