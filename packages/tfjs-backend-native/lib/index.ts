/**
 * `import '@tta/tfjs-backend-native'` registers the TensorFlow.js backend `native`: the cpu
 * backend's tensor storage and kernels, with the heavy kernels (convolutions, matrix
 * products, pooling, batch norm, elementwise ops, reductions, softmax) replaced by the
 * addon's multi-threaded C++ on OpenBLAS (one kernel a file: lib/kernels and src/kernels).
 */
import * as tf from '@tensorflow/tfjs-core';
import { FusedConv2D } from '@tensorflow/tfjs-core';
import type { BackendValues, DataId, DataType } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { invalidParameterError } from '@tta/util';
import { addon } from './addon';
import { bufferPool } from './memory';
import { forgetEntry, fusedBlocksRun, fusionEnabled, peekValues, setFusionEnabled } from './fusion';
import { nativeKernels, ownKernelConfigs } from './kernels/all_kernels';
import { FUSED_CONV2D } from './kernels/FusedConv2D';
import { kernelThreads, withFallback } from './kernels/kernel_utils';
import { registerBatchNormTrainingGradient, registerFusedConv2DGradient, registerFusedGradients } from './gradients';

export { nativeKernels, nativeKernelConfigs, ownKernelConfigs } from './kernels/all_kernels';
export { kernelThreads } from './kernels/kernel_utils';
export type { NativeKernel, NativeKernelConfig, OwnKernelConfig } from './kernels/kernel_utils';
export { BINARY_OPS } from './kernels/Binary';
export { UNARY_OPS } from './kernels/Unary';
export { REDUCE_OPS } from './kernels/Reduce';
export { BATCH_NORM_GRAD } from './kernels/BatchNormGrad';
export { BATCH_NORM_TRAINING } from './kernels/BatchNormTraining';
export { BATCH_NORM_TRAINING_GRAD } from './kernels/BatchNormTrainingGrad';
export { RELU_BIAS_GRAD } from './kernels/ReluBiasGrad';
export { ADAM_UPDATE } from './kernels/AdamUpdate';
export { FUSED_CONV2D };
export { FusedAdamOptimizer, fusedAdam } from './optimizers';
export { batchNormTraining, fusedConv2d } from './ops';
export type { BatchNormTrainingResult, FusedConv2DArgs } from './ops';

export const BACKEND_NAME = 'native';
/** Above wasm (2) and cpu (1), below tfjs-node (3). */
export const BACKEND_PRIORITY = 2.5;

/** The cpu backend under another name: the native kernels are registered for it. */
export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // The cpu backend's first write warns on stderr that it is slow and tfjs-node would be
    // faster; these kernels are native already, and a CLI's stderr is not ours to clutter.
    (this as unknown as { firstUse: boolean }).firstUse = false;
    if (process.env.TTA_NATIVE_RETAIN_MEMORY !== '0' && !retainsFreedMemory)
      retainsFreedMemory = addon.retainFreedMemory();
  }

  // Every data entry passes through write or move, and leaves through disposeData: the
  // buffer pool counts the entries holding each kernel output, and readSync (behind
  // dataSync, data and arraySync) marks what it hands out as never to be reused.
  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = super.write(values, shape, dtype);
    bufferPool.hold(values);
    return dataId;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    bufferPool.hold(values);
  }

  override disposeData(dataId: DataId, force?: boolean): boolean {
    // peekValues: a deferred convolution block (fusion.ts) being disposed is never computed.
    const entry = this.data.has(dataId) ? this.data.get(dataId) : undefined;
    const values = entry === undefined ? undefined : peekValues(entry);
    const disposed = super.disposeData(dataId, force);
    if (disposed && entry !== undefined && !this.data.has(dataId)) {
      forgetEntry(entry);
      if (values !== undefined) bufferPool.release(values);
    }
    return disposed;
  }

  override readSync(dataId: DataId): BackendValues {
    if (this.data.has(dataId)) bufferPool.escape(this.data.get(dataId).values);
    return super.readSync(dataId);
  }

  override dispose(): void {
    super.dispose();
    bufferPool.clear();
  }
}

let retainsFreedMemory = false;

export interface BackendInfo {
  /** Which GEMM the addon was built with. */
  gemm: 'openblas' | 'portable';
  /** Threads used by the native kernels (the shared pool; BLAS itself runs single-threaded per block). */
  threads: number;
  /** OpenBLAS's own thread count (1: our pool parallelises), 0 without OpenBLAS. */
  blasThreads: number;
  blasConfig: string;
  /** oneDNN's version when the addon was built with it (the convolutions then run on it), else ''. */
  onednn: string;
  /** Whether oneDNN runs the convolutions and large matrix products now (useOnednn, TTA_NATIVE_ONEDNN=0). */
  onednnEnabled: boolean;
  /** Convolutions (forward or gradient) oneDNN has run since the addon loaded. */
  onednnConvolutions: number;
  /** Matrix products (from about a million multiply-adds; dense layers and their gradients) oneDNN has run. */
  onednnMatMuls: number;
  /** Whether convolution blocks are deferred and fused (useFusion, TTA_NATIVE_FUSE=0; fusion.ts). */
  fusionEnabled: boolean;
  /** Fused convolution blocks (a convolution with its batch norm and/or max pooling) run since the addon loaded. */
  fusedBlocks: number;
  /**
   * The instruction set Winograd convolutions run on here ('avx512f' or 'avx2'), '' when none
   * (convolutions then stay direct).
   */
  winograd: 'avx512f' | 'avx2' | '';
  /** Whether 3x3 stride-1 convolutions may run as Winograd's F(4x4, 3x3) (useWinograd, TTA_NATIVE_WINOGRAD=0). */
  winogradEnabled: boolean;
  /** Convolutions (forward, input gradient or fused block) run as Winograd's since the addon loaded. */
  winogradConvolutions: number;
  /**
   * Whether glibc keeps freed memory mapped (set when the backend is first created, unless
   * TTA_NATIVE_RETAIN_MEMORY=0): multi-MB tensors then reuse warm pages instead of paying
   * page faults on every allocation.
   */
  retainsFreedMemory: boolean;
  /** Bytes of disposed kernel outputs waiting in the buffer pool for reuse (memory.ts). */
  pooledBytes: number;
}

export function backendInfo(): BackendInfo {
  const info = addon.backendInfo();
  return {
    ...info,
    threads: kernelThreads,
    retainsFreedMemory,
    pooledBytes: bufferPool.pooledBytes,
    fusionEnabled: fusionEnabled(),
    fusedBlocks: fusedBlocksRun(),
  };
}

/**
 * Runs the convolutions on oneDNN (true, the default when the addon is built with it and
 * TTA_NATIVE_ONEDNN is not 0) or on the built-in kernels (false), e.g. to compare the two in
 * one benchmark. Returns whether oneDNN is now used: false when the addon was built without it.
 */
export function useOnednn(enabled: boolean): boolean {
  if (typeof enabled !== 'boolean') throw invalidParameterError('enabled', 'a boolean', enabled);
  return addon.setOnednn(enabled);
}

/**
 * Fuses inference convolution blocks (Conv2D + bias + activation, then FusedBatchNorm and/or
 * MaxPool on its output) into one kernel that keeps the intermediate in cache (true, the default
 * unless TTA_NATIVE_FUSE=0), or runs the kernels one by one (false), e.g. to compare the two.
 * Both give the same values. Returns the setting now in force.
 */
export function useFusion(enabled: boolean): boolean {
  if (typeof enabled !== 'boolean') throw invalidParameterError('enabled', 'a boolean', enabled);
  setFusionEnabled(enabled);
  return fusionEnabled();
}

/**
 * Runs 3x3 stride-1 convolutions with at least 8 input channels (forward, input gradient and
 * fused blocks) as Winograd's F(4x4, 3x3) where the CPU has AVX2 or AVX-512 (true, the default
 * unless TTA_NATIVE_WINOGRAD=0): 4x fewer multiply-adds, results within rounding (about 1e-5
 * relative) of the direct convolution's; or on the direct convolution (false). Returns the
 * setting now in force.
 */
export function useWinograd(enabled: boolean): boolean {
  if (typeof enabled !== 'boolean') throw invalidParameterError('enabled', 'a boolean', enabled);
  return addon.setWinograd(enabled);
}

/**
 * Row-major single-precision c = op(a) op(b) on the native GEMM (for ceilings in benchmarks).
 * a is m x k (k x m when transA), b is k x n (n x k when transB), c is m x n.
 */
export function sgemm(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  options: { transA?: boolean; transB?: boolean; threads?: number } = {},
): Float32Array {
  addon.sgemm(options.transA === true, options.transB === true, m, n, k, a, b, c, options.threads ?? kernelThreads);
  return c;
}

function register(): void {
  if (tf.findBackendFactory(BACKEND_NAME) != null) return;
  tf.registerBackend(BACKEND_NAME, () => new NativeBackend(), BACKEND_PRIORITY);
  for (const config of tf.getKernelsForBackend('cpu')) {
    const native = nativeKernels[config.kernelName];
    const kernelFunc = native == null ? config.kernelFunc : withFallback(native, config.kernelFunc);
    tf.registerKernel({ ...config, backendName: BACKEND_NAME, kernelFunc });
    if (config.kernelName === FusedConv2D)
      tf.registerKernel({ kernelName: FUSED_CONV2D, backendName: BACKEND_NAME, kernelFunc });
  }
  for (const config of ownKernelConfigs) tf.registerKernel({ ...config, backendName: BACKEND_NAME });
  registerBatchNormTrainingGradient();
  registerFusedConv2DGradient();
  if (process.env.TTA_NATIVE_FUSED_GRADIENTS !== '0') registerFusedGradients(BACKEND_NAME);
}

register();
