// withTta for TensorFlow.js models: @tta/core's wrapper, with a LayersModel, a GraphModel or
// a loaded model turned into a Classifier first, and tensors accepted as input.
import * as tf from '@tensorflow/tfjs-core';
import * as tfc from '@tensorflow/tfjs-converter';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  withTta as withTtaCore,
  type Classifier,
  type ImageBatch,
  type ImageSource,
  type Policy,
  type PredictFunction,
  type TtaResult,
  type WithTtaOptions,
} from '@tta/core';
import { invalidParameterError, isPlainObject } from '@tta/util';
import { tfjsClassifier, type AnyModel, type OutputKind, type TfjsModel } from './tfjs-model';

export interface TfjsWithTtaOptions extends WithTtaOptions {
  /** Images per forward pass of a TensorFlow.js model. Default 256. */
  batchSize?: number;
  /** What a TensorFlow.js model outputs (default 'auto'). */
  outputs?: OutputKind;
}

export interface TfjsTtaModel {
  readonly policy: Policy;
  readonly classifier: Classifier;
  /**
   * As @tta/core's TtaModel.predict, and also a tensor: int32 or uint8-valued pixels (0-255)
   * get the model's preprocessing, float32 ones are taken as already preprocessed.
   */
  predict(images: Uint8Array | Float32Array | ImageBatch | ImageSource | tf.Tensor): Promise<TtaResult>;
}

function isTfjsModel(value: unknown): value is TfjsModel {
  return (
    isPlainObject(value) && (value.format === 'layers-model' || value.format === 'graph-model') && 'model' in value
  );
}

/**
 * Wraps a model with a TTA policy: a TensorFlow.js LayersModel or GraphModel (or what
 * loadTfjsModel returns), a Classifier, or a function (images, count) => probabilities.
 */
export function withTta(
  model: TfjsModel | AnyModel | Classifier | PredictFunction,
  policy: Policy | string = 'flip',
  options: TfjsWithTtaOptions = {},
): TfjsTtaModel {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const { batchSize, outputs, ...coreOptions } = options;
  const isTf = isTfjsModel(model) || model instanceof tfl.LayersModel || model instanceof tfc.GraphModel;
  const inner = withTtaCore(
    isTf
      ? tfjsClassifier(model as TfjsModel | AnyModel, {
          ...(batchSize !== undefined ? { batchSize } : {}),
          ...(outputs !== undefined ? { outputs } : {}),
          ...(options.preprocessing ? { preprocessing: options.preprocessing } : {}),
        })
      : (model as Classifier | PredictFunction),
    policy,
    coreOptions,
  );
  return {
    policy: inner.policy,
    classifier: inner.classifier,
    async predict(images) {
      if (images instanceof tf.Tensor) {
        const values = await images.data();
        return inner.predict(
          images.dtype === 'float32' ? (values as Float32Array) : Uint8Array.from(values as ArrayLike<number>),
        );
      }
      return inner.predict(images);
    },
  };
}
