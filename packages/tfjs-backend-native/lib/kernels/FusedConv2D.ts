import { FusedConv2D } from '@tensorflow/tfjs-core';
import { convForward } from './Conv2D';
import type { NativeKernelConfig } from './kernel_utils';

/**
 * FusedConv2D under the name ops.ts's fusedConv2d runs, so that its gradient (gradients.ts)
 * belongs to this backend's op alone and tfjs' own FusedConv2D keeps having none.
 */
export const FUSED_CONV2D = 'TtaFusedConv2D';

export const fusedConv2DConfig: NativeKernelConfig = {
  kernelName: FusedConv2D,
  nativeKernel: (args) => convForward(args, true),
};
