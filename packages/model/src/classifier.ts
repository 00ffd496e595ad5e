// The bridge from a TensorFlow.js layers model to the engine's Classifier.
import type { Classifier } from '@tta/core';
import { predict } from './predict';

/** The parts of a tf.LayersModel the adapter reads (kept structural: no tfjs types here). */
export interface LayersModelLike {
  inputs: { shape: readonly (number | null)[] }[];
  outputs: { shape: readonly (number | null)[] }[];
}

export function layersClassifier(model: LayersModelLike, options: { batchSize?: number } = {}): Classifier {
  const input = model.inputs[0]?.shape ?? [];
  const output = model.outputs[0]?.shape ?? [];
  const [, h, w, c] = input;
  const classes = output[output.length - 1];
  if (input.length !== 4 || !h || !w || !c) {
    throw new Error(
      `Expected a model whose input is [batch, height, width, channels] but received input shape [${input.join(', ')}]`,
    );
  }
  if (output.length !== 2 || !classes) {
    throw new Error(
      `Expected a model whose output is [batch, classes] but received output shape [${output.join(', ')}]`,
    );
  }
  const inputShape: [number, number, number] = [h, w, c];
  return {
    inputShape,
    numClasses: classes,
    predict: (images, count) =>
      predict(model as Parameters<typeof predict>[0], images.subarray(0, count * h * w * c), {
        batchSize: options.batchSize,
        shape: inputShape,
      }),
  };
}
