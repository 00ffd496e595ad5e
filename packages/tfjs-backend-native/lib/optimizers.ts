/**
 * tfjs' Adam with each variable's update as one native kernel on the native backend. tfjs'
 * AdamOptimizer runs about twelve kernels per variable per step (a third of a training
 * step's kernel calls for the reference CNN, each with its JavaScript overhead, and twelve
 * passes over the largest weights); this runs one, with the same float32 arithmetic in the
 * same order. Same state, weights and configuration as AdamOptimizer (class name 'Adam'), so
 * checkpoints and serialisation are unchanged; on any other backend it is AdamOptimizer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensorMap, Tensor, Variable } from '@tensorflow/tfjs-core';
import { outOfRangeError } from '@tta/util';
import { ADAM_UPDATE } from './kernels/AdamUpdate';

type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** AdamOptimizer's state, which its typings keep protected. */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: Variable } | undefined>;
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: VariableGradients): void {
    if (tf.getKernel(ADAM_UPDATE, tf.getBackend()) == null) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    // The bias corrections as tfjs computes them (float32 1 - accBeta), read once per step.
    const [oneMinusAccBeta1, oneMinusAccBeta2] = tf
      .tidy(() => [tf.sub(1, state.accBeta1), tf.sub(1, state.accBeta2)])
      .map((t) => {
        const value = t.dataSync()[0]!;
        t.dispose();
        return value;
      }) as [number, number];
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        state.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        state.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        const gradient = Array.isArray(variableGradients)
          ? variableGradients[i]!.tensor
          : (variableGradients as NamedTensorMap)[name];
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable,
          v = state.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = tf.engine().runKernel(
          ADAM_UPDATE,
          { value, m, v, gradient: gradient as Tensor },
          {
            learningRate: state.learningRate,
            beta1: state.beta1,
            beta2: state.beta2,
            epsilon: state.epsilon,
            oneMinusAccBeta1,
            oneMinusAccBeta2,
          },
        ) as Tensor[];
        m.assign(newM!);
        v.assign(newV!);
        value.assign(newValue!);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, state.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, state.beta2));
    });
    this.incrementIterations();
  }
}

/** tf.train.adam's arguments and defaults (epsilon: the backend's), fused on the native backend. */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FusedAdamOptimizer {
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!finite(learningRate) || learningRate <= 0)
    throw outOfRangeError('learningRate', 'a positive finite number', learningRate);
  if (!finite(beta1) || beta1 < 0 || beta1 >= 1) throw outOfRangeError('beta1', 'a number in [0, 1)', beta1);
  if (!finite(beta2) || beta2 < 0 || beta2 >= 1) throw outOfRangeError('beta2', 'a number in [0, 1)', beta2);
  if (epsilon !== undefined && (!finite(epsilon) || epsilon <= 0))
    throw outOfRangeError('epsilon', 'a positive finite number or undefined', epsilon);
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon ?? (null as unknown as number));
}
