// Keras' Conv2D and BatchNormalization, with their training-mode computations on the native
// backend as single fused kernels (@tta/tfjs-backend-native's fusedConv2d and batchNormTraining).
// Profiling the reference CNN's training step showed tfjs-core's compositions taking most of
// it: batch norm as tf.moments and tf.batchNorm (about thirty full-size passes forward and
// backward, plus gradient sums where x feeds three ops), and Conv2D + relu split into Conv2D,
// Add and Relu forward and Step, Multiply and Sum backward whenever gradients are recorded.
// Same weights, configuration and class names, same moving-average updates: saved models are
// unchanged, any model loaded after this module gets the fused paths, and every other backend
// (or configuration these do not cover) runs tfjs-layers' own code.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Tensor } from '@tensorflow/tfjs-core';

type BatchNormalizationArgs = Parameters<typeof tfl.layers.batchNormalization>[0];
type Conv2DArgs = Parameters<typeof tfl.layers.conv2d>[0];
type Kwargs = Record<string, unknown>;
type LayerClass<Args> = new (args: Args) => tfl.layers.Layer;

// tfjs-layers exports factories, not these classes.
const KerasBatchNormalization = tfl.layers.batchNormalization().constructor as LayerClass<
  BatchNormalizationArgs | undefined
>;
const KerasConv2D = tfl.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as LayerClass<Conv2DArgs>;

type NativeOps = typeof import('@tta/tfjs-backend-native');

/**
 * @tta/tfjs-backend-native when it is loaded (selecting the native backend loads it), else null; with
 * `running`, only while the native backend runs.
 */
export function nativeOps(running = true): NativeOps | null {
  const loaded = running ? tf.getBackend() === 'native' : tf.findBackendFactory('native') != null;
  // Required lazily: importing it loads the addon, which is optional for this package.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return loaded ? (require('@tta/tfjs-backend-native') as NativeOps) : null;
}

function singleInput(inputs: Tensor | Tensor[]): Tensor | undefined {
  return Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
}

/** The fields of tfjs-layers' BatchNormalization that its typings keep private. */
interface BatchNormalizationState {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: tfl.LayerVariable;
  beta?: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

export class BatchNormalization extends KerasBatchNormalization {
  static className = 'BatchNormalization';

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const input = singleInput(inputs);
    const state = this as unknown as BatchNormalizationState;
    const ops = kwargs.training === true ? nativeOps() : null;
    if (
      ops === null ||
      input === undefined ||
      input.dtype !== 'float32' ||
      input.size === 0 ||
      (state.axis !== -1 && state.axis !== input.rank - 1)
    )
      return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = ops.batchNormTraining(
        input,
        state.gamma?.read() ?? null,
        state.beta?.read() ?? null,
        state.epsilon,
      );
      // Keras' update, as tfjs-layers writes it: moving -= (moving - batch) * (1 - momentum).
      for (const [variable, value] of [
        [state.movingMean, mean],
        [state.movingVariance, variance],
      ] as const) {
        const current = variable.read();
        variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - state.momentum)));
      }
      return y;
    });
  }
}

/** The fields of tfjs-layers' Conv2D that its typings keep protected. */
interface Conv2DState {
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number[];
  activation: { getClassName(): string };
  kernel: tfl.LayerVariable;
  bias?: tfl.LayerVariable | null;
}

export class Conv2D extends KerasConv2D {
  static className = 'Conv2D';

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const input = singleInput(inputs);
    const state = this as unknown as Conv2DState;
    const activation = state.activation.getClassName();
    const ops = nativeOps();
    if (
      ops === null ||
      input === undefined ||
      input.dtype !== 'float32' ||
      input.rank !== 4 ||
      state.dataFormat !== 'channelsLast' ||
      !state.dilationRate.every((d) => d === 1) ||
      (state.padding !== 'same' && state.padding !== 'valid') ||
      (activation !== 'relu' && activation !== 'linear')
    )
      return super.call(inputs, kwargs);
    return tf.tidy(() =>
      ops.fusedConv2d({
        x: input,
        filter: state.kernel.read(),
        bias: state.bias?.read() ?? null,
        strides: state.strides as [number, number],
        pad: state.padding as 'same' | 'valid',
        activation,
      }),
    );
  }
}

for (const layer of [BatchNormalization, Conv2D]) {
  tf.serialization.registerClass(
    layer as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
  );
}

/** Keras' BatchNormalization layer (tfl.layers.batchNormalization's arguments), fused on the native backend. */
export function batchNormalization(args?: BatchNormalizationArgs): tfl.layers.Layer {
  return new BatchNormalization(args);
}

/** Keras' Conv2D layer (tfl.layers.conv2d's arguments), fused with its bias and relu on the native backend. */
export function conv2d(args: Conv2DArgs): tfl.layers.Layer {
  return new Conv2D(args);
}
