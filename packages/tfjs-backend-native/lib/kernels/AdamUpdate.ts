import { util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  addon,
  allocate,
  float32Values,
  kernelThreads,
  output,
  type NativeKernelArgs,
  type OwnKernelConfig,
} from './kernel_utils';

/** Name of the fused Adam update kernel (optimizers.ts); native backend only. */
export const ADAM_UPDATE = 'TtaAdamUpdate';

/**
 * Outputs [value', m', v'] of one Adam step for one variable, from value, m, v and gradient
 * (float32, one shape) and the attributes learningRate, beta1, beta2, epsilon and the bias
 * corrections oneMinusAccBeta1 and oneMinusAccBeta2.
 */
export const adamUpdateKernel = (({ inputs, backend, attrs }: NativeKernelArgs): TensorInfo[] => {
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

export const adamUpdateConfig: OwnKernelConfig = { kernelName: ADAM_UPDATE, kernelFunc: adamUpdateKernel };
