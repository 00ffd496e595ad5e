// withTta: a model with test-time augmentation around it, like ttach's
// ClassificationTTAWrapper, but batched: every view of a chunk of images goes through the
// model in one call. The model is a Classifier or any function from a float32 NHWC batch to
// class probabilities; @tta/model adds TensorFlow.js models on top of this.
import { invalidParameterError, isPlainObject, outOfRangeError } from '@tta/util';
import { predictWithTta, type Classifier, type Preprocessing, type TtaOptions, type TtaResult } from './engine';
import { isImageSource, type ImageBatch, type ImageSource } from './images';
import { resolvePolicy, type Policy } from './policies';

/** A model as a plain function: count float32 NHWC images in, count x classes probabilities out. */
export type PredictFunction = (images: Float32Array, count: number) => Float32Array | Promise<Float32Array>;

export interface WithTtaOptions extends Omit<TtaOptions, 'keepViewPredictions'> {
  /** [height, width, channels] of one image: required with a PredictFunction. */
  inputShape?: readonly [number, number, number];
  /** Classes the model outputs: required with a PredictFunction. */
  numClasses?: number;
  /** The pixel preprocessing the model expects, for uint8 images. Default x / 255. */
  preprocessing?: Preprocessing;
}

export interface TtaModel {
  readonly policy: Policy;
  readonly classifier: Classifier;
  /**
   * TTA predictions for NHWC images of the model's input size: uint8 pixels (0-255, the
   * model's preprocessing is applied) or float32 (taken as already preprocessed), or an
   * image batch or source. Returns merged probabilities [n, classes] and labels.
   */
  predict(images: Uint8Array | Float32Array | ImageBatch | ImageSource): Promise<TtaResult>;
}

function checkShape(value: unknown): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw invalidParameterError('options.inputShape', 'an array [height, width, channels] of positive integers', value);
  }
  return value as [number, number, number];
}

function isClassifier(value: unknown): value is Classifier {
  return isPlainObject(value) && typeof value.predict === 'function' && Array.isArray(value.inputShape);
}

/** Wraps a model with a TTA policy (a Policy, a name such as 'flip', or a view spec). */
export function withTta(
  model: Classifier | PredictFunction,
  policy: Policy | string = 'flip',
  options: WithTtaOptions = {},
): TtaModel {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidParameterError('options', 'an object', options);
  }
  const resolved = typeof policy === 'string' ? resolvePolicy(policy) : policy;
  if (!isPlainObject(resolved) || !Array.isArray(resolved.views)) {
    throw invalidParameterError('policy', "a Policy, a policy name such as 'flip', or a view spec", policy);
  }
  let classifier: Classifier;
  if (typeof model === 'function') {
    const inputShape = checkShape(options.inputShape);
    const numClasses = options.numClasses;
    if (typeof numClasses !== 'number' || !Number.isSafeInteger(numClasses) || numClasses < 1) {
      throw outOfRangeError(
        'options.numClasses',
        'the number of classes the function outputs (an integer >= 1)',
        numClasses,
      );
    }
    classifier = {
      inputShape,
      numClasses,
      ...(options.preprocessing ? { preprocessing: options.preprocessing } : {}),
      predict: async (images, count) => model(images, count),
    };
  } else if (isClassifier(model)) {
    classifier = options.preprocessing
      ? { ...model, predict: model.predict.bind(model), preprocessing: options.preprocessing }
      : model;
  } else {
    throw invalidParameterError('model', 'a Classifier or a function (images, count) => probabilities', model);
  }
  const [h, w, c] = classifier.inputShape;
  const pixels = h * w * c;
  const { inputShape: _shape, numClasses: _classes, preprocessing: _preprocessing, ...ttaOptions } = options;
  return {
    policy: resolved,
    classifier,
    async predict(images) {
      let batch: ImageBatch | ImageSource;
      if (images instanceof Uint8Array || images instanceof Float32Array) {
        if (images.length % pixels !== 0) {
          throw outOfRangeError(
            'images',
            `a whole number of ${h}x${w}x${c} images (a multiple of ${pixels} values)`,
            images,
          );
        }
        batch = { images, count: images.length / pixels, height: h, width: w, channels: c };
      } else if (isImageSource(images) || isPlainObject(images)) {
        batch = images;
      } else {
        throw invalidParameterError(
          'images',
          'a Uint8Array or Float32Array of NHWC pixels, an image batch or a source',
          images,
        );
      }
      return predictWithTta(classifier, batch, resolved, ttaOptions);
    },
  };
}
