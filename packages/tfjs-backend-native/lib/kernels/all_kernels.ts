// The registration list, as in tfjs-backend-wasm: every kernel this backend implements, one
// file each. index.ts registers the cpu backend's kernels under `native`, with these in front.
import { adamUpdateConfig } from './AdamUpdate';
import { avgPoolConfig } from './AvgPool';
import { avgPoolGradConfig } from './AvgPoolGrad';
import { batchMatMulConfig } from './BatchMatMul';
import { batchNormGradConfig } from './BatchNormGrad';
import { batchNormTrainingConfig } from './BatchNormTraining';
import { batchNormTrainingGradConfig } from './BatchNormTrainingGrad';
import { binaryConfigs } from './Binary';
import { conv2DConfig } from './Conv2D';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput';
import { fusedBatchNormConfig } from './FusedBatchNorm';
import { fusedConv2DConfig } from './FusedConv2D';
import { fusedMatMulConfig } from './_FusedMatMul';
import type { NativeKernel, NativeKernelConfig, OwnKernelConfig } from './kernel_utils';
import { maxPoolConfig } from './MaxPool';
import { maxPoolGradConfig } from './MaxPoolGrad';
import { reduceConfigs } from './Reduce';
import { reluBiasGradConfig } from './ReluBiasGrad';
import { softmaxConfig } from './Softmax';
import { tileConfig } from './Tile';
import { unaryConfigs } from './Unary';

/** Native kernels for cpu kernels of the same name, each falling back to the cpu one when it declines. */
export const nativeKernelConfigs: readonly NativeKernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  maxPoolConfig,
  avgPoolConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  fusedBatchNormConfig,
  tileConfig,
  softmaxConfig,
  ...binaryConfigs,
  ...unaryConfigs,
  ...reduceConfigs,
];

/** This backend's own kernels (fused ops with no cpu counterpart). */
export const ownKernelConfigs: readonly OwnKernelConfig[] = [
  batchNormGradConfig,
  batchNormTrainingConfig,
  batchNormTrainingGradConfig,
  reluBiasGradConfig,
  adamUpdateConfig,
];

/** Every kernel implemented natively, by kernel name. */
export const nativeKernels: Readonly<Record<string, NativeKernel>> = Object.fromEntries(
  nativeKernelConfigs.map((config) => [config.kernelName, config.nativeKernel]),
);
