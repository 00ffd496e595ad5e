// A small deterministic classifier in plain TypeScript (a fixed random linear map
// of the pixels, then softmax), so the engine can be tested exactly without
// TensorFlow.js.
import { seededRandom } from '@tta/util';
import type { Classifier } from '../src/engine';

export interface LinearClassifier extends Classifier {
  calls: number[];
}

export function linearClassifier(inputShape: [number, number, number], numClasses: number, seed = 1): LinearClassifier {
  const size = inputShape[0] * inputShape[1] * inputShape[2];
  const random = seededRandom(seed);
  const weights = Float32Array.from({ length: size * numClasses }, () => random() * 2 - 1);
  const calls: number[] = [];
  return {
    inputShape,
    numClasses,
    calls,
    async predict(images: Float32Array, count: number): Promise<Float32Array> {
      calls.push(count);
      const out = new Float32Array(count * numClasses);
      const logits = new Float64Array(numClasses);
      for (let i = 0; i < count; i++) {
        logits.fill(0);
        for (let p = 0; p < size; p++) {
          const x = images[i * size + p]!;
          for (let k = 0; k < numClasses; k++) logits[k]! += x * weights[p * numClasses + k]!;
        }
        const max = Math.max(...logits);
        let sum = 0;
        for (let k = 0; k < numClasses; k++) sum += logits[k] = Math.exp((logits[k]! - max) / 4);
        for (let k = 0; k < numClasses; k++) out[i * numClasses + k] = logits[k]! / sum;
      }
      return out;
    },
  };
}
