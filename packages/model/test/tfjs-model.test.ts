// A user's own TensorFlow.js model in either format: loading, shapes, output kinds, and the
// Keras-trained CIFAR-10 model as an oracle nobody here wrote.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { augmentReference, softVoteReference } from '@tta/native/reference';
import { backendInfo } from '@tta/tfjs-backend-native';
import { isTtaError } from '@tta/util';
import { viewsForInput } from '@tta/core';
import { loadTfjsModel, rowsAreProbabilities, saveModel, selectBackend, tfjsClassifier, withTta } from '../src';
import { writeLinearGraph } from '../src/testing';
import { cifarTestImages, kerasModelDir, testBackend } from './helpers';

let tmp: string;
beforeAll(async () => {
  await selectBackend(testBackend('native'));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tta-tfjs-model-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function randomImages(count: number, pixels: number, seed = 1): Float32Array {
  let state = seed;
  return Float32Array.from(
    { length: count * pixels },
    () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648,
  );
}

function expectClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(tolerance);
}

describe('graph models', () => {
  test('a 64x64 graph with a softmax: shapes from its signature, predictions as computed by hand', async () => {
    const dir = path.join(tmp, 'graph64');
    const graph = writeLinearGraph(dir, { height: 64, width: 64, channels: 3, classes: 5, softmax: true });
    const model = await loadTfjsModel(dir);
    try {
      expect(model.format).toBe('graph-model');
      expect(model.inputShape).toEqual([64, 64, 3]);
      expect(model.numClasses).toBe(5);
      const classifier = tfjsClassifier(model, { batchSize: 3 });
      const images = randomImages(7, 64 * 64 * 3);
      expectClose(await classifier.predict(images, 7), graph.predict(images, 7), 1e-5);
      expect(classifier.outputs).toBe('probabilities');
    } finally {
      model.dispose();
    }
  });

  test('a graph that outputs logits gets a softmax (auto), or not when told they are probabilities', async () => {
    const dir = path.join(tmp, 'logits');
    const graph = writeLinearGraph(dir, { height: 8, width: 8, channels: 3, classes: 4, softmax: false, seed: 3 });
    const model = await loadTfjsModel(path.join(dir, 'model.json'));
    try {
      const images = randomImages(5, 192, 2).map((v) => v * 40);
      const logits = graph.predict(images, 5);
      expect(rowsAreProbabilities(logits, 4)).toBe(false);
      const auto = tfjsClassifier(model);
      const probabilities = await auto.predict(images, 5);
      expect(auto.outputs).toBe('logits');
      const softmax = tf.tidy(() => tf.softmax(tf.tensor2d(logits, [5, 4])).dataSync() as Float32Array);
      expectClose(probabilities, softmax, 1e-5);
      expectClose(await tfjsClassifier(model, { outputs: 'probabilities' }).predict(images, 5), logits, 1e-4);
    } finally {
      model.dispose();
    }
  });

  test('a graph of any input size needs a size; a fixed one must match it', async () => {
    const dynamic = path.join(tmp, 'dynamic');
    writeLinearGraph(dynamic, { height: 16, width: 12, channels: 3, classes: 2, softmax: true, dynamic: true });
    await expect(loadTfjsModel(dynamic)).rejects.toThrow(/accepts images of any size; say which/);
    const sized = await loadTfjsModel(dynamic, { imageSize: [16, 12] });
    expect(sized.inputShape).toEqual([16, 12, 3]);
    sized.dispose();
    const fixed = path.join(tmp, 'fixed');
    writeLinearGraph(fixed, { height: 16, width: 12, channels: 3, classes: 2, softmax: true });
    await expect(loadTfjsModel(fixed, { imageSize: [32, 32] })).rejects.toThrow(/takes 16x12 images, not the 32x32/);
  });
});

describe('layers models', () => {
  test('a saved Keras-style model with a linear last layer is treated as logits', async () => {
    const model = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: [6, 4, 3] }), tfl.layers.dense({ units: 3, activation: 'linear' })],
    });
    const dir = path.join(tmp, 'layers');
    await saveModel(model, dir, { architecture: 'test' });
    const loaded = await loadTfjsModel(dir);
    try {
      expect(loaded).toMatchObject({ format: 'layers-model', inputShape: [6, 4, 3], numClasses: 3 });
      expect(loaded.metadata?.architecture).toBe('test');
      const classifier = tfjsClassifier(loaded);
      expect(classifier.outputs).toBe('logits');
      const images = randomImages(4, 72);
      const expected = tf.tidy(() =>
        tf.softmax(model.predict(tf.tensor4d(images, [4, 6, 4, 3])) as tf.Tensor).dataSync(),
      );
      expectClose(await classifier.predict(images, 4), expected as Float32Array, 1e-6);
    } finally {
      loaded.dispose();
      model.dispose();
    }
  });
});

test('clear errors for what is not a model', async () => {
  await expect(loadTfjsModel(path.join(tmp, 'nothing'))).rejects.toThrow(/No model at .*model.json does not exist/);
  const bad = path.join(tmp, 'bad');
  fs.mkdirSync(bad);
  fs.writeFileSync(path.join(bad, 'model.json'), '{"format":"graph-model"}');
  const error = await loadTfjsModel(bad).catch((e: unknown) => e);
  expect(isTtaError(error, 'TTA_MODEL_FILE')).toBe(true);
  expect((error as Error).message).toMatch(/is not a TensorFlow.js model: it has no modelTopology/);
  fs.writeFileSync(path.join(bad, 'model.json'), '{"format":"onnx","modelTopology":{},"weightsManifest":[]}');
  await expect(loadTfjsModel(bad)).rejects.toThrow(/format 'onnx', neither 'layers-model' nor 'graph-model'/);
  expect(() => tfjsClassifier({} as never)).toThrow('Expected a TensorFlow.js LayersModel or GraphModel');
  await expect(loadTfjsModel(bad, { imageSize: [0, 2] as never })).rejects.toThrow('for options.imageSize');
});

test('predicting leaves no tensors behind', async () => {
  const dir = path.join(tmp, 'leak');
  writeLinearGraph(dir, { height: 8, width: 8, channels: 1, classes: 3, softmax: false });
  const model = await loadTfjsModel(dir);
  const classifier = tfjsClassifier(model, { batchSize: 4 });
  const images = randomImages(10, 64);
  await classifier.predict(images, 10);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await classifier.predict(images, 10);
  const tta = withTta(model, 'flip');
  await tta.predict(images);
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();
});

test('withTta on a TensorFlow.js model: the views through the model, merged, from arrays or tensors', async () => {
  const dir = path.join(tmp, 'tta');
  const graph = writeLinearGraph(dir, { height: 6, width: 5, channels: 3, classes: 4, softmax: true, seed: 11 });
  const model = await loadTfjsModel(dir);
  try {
    const pixels = Uint8Array.from({ length: 3 * 90 }, (_, i) => (i * 37) % 256);
    const tta = withTta(model, 'flip-shift', { chunkSize: 2 });
    const result = await tta.predict(pixels);
    const views = augmentReference(pixels, [3, 6, 5, 3], viewsForInput(tta.policy.views, [6, 5, 3]), {
      fill: 'nearest',
      scale: 1 / 255,
    });
    const expected = softVoteReference(graph.predict(views, 30), [10, 3, 4]);
    expectClose(result.scores, expected.scores, 1e-5);
    const fromTensor = await tta.predict(tf.tensor4d(pixels, [3, 6, 5, 3], 'int32'));
    expectClose(fromTensor.scores, result.scores, 1e-7);
  } finally {
    model.dispose();
  }
});

const keras = kerasModelDir();
const describeKeras = keras
  ? describe
  : (title: string, fn: () => void) => describe.skip(`${title} (skipped: no ../shared/models/keras-cifar10)`, fn);

describeKeras('the Keras-trained CIFAR-10 model (an oracle nobody here wrote)', () => {
  const COUNT = 2000;
  test("both formats predict Keras' own probabilities within 1e-4, and agree with each other", async () => {
    const { images } = cifarTestImages(COUNT);
    const input = Float32Array.from(images, (v) => v / 255);
    const expected = new Float32Array(
      fs.readFileSync(path.join(keras!, 'keras-test-probabilities.f32')).buffer.slice(0, COUNT * 40),
    );
    const results: Float32Array[] = [];
    const winogradConvolutions = backendInfo().winogradConvolutions;
    for (const format of ['graph', 'layers']) {
      const model = await loadTfjsModel(path.join(keras!, format));
      try {
        expect(model).toMatchObject({ inputShape: [32, 32, 3], numClasses: 10 });
        const classifier = tfjsClassifier(model, { batchSize: 500 });
        const probabilities = await classifier.predict(input, COUNT);
        expect(classifier.outputs).toBe('probabilities');
        expectClose(probabilities, expected, 1e-4);
        results.push(probabilities);
      } finally {
        model.dispose();
      }
    }
    expectClose(results[0]!, results[1]!, 1e-5);
    // On native, the second convolution block of both formats ran as Winograd's F(4x4, 3x3)
    // (where the CPU has AVX2 or AVX-512), and still matched Keras within 1e-4.
    if (tf.getBackend() === 'native' && backendInfo().winograd !== '') {
      expect(backendInfo().winogradConvolutions - winogradConvolutions).toBeGreaterThanOrEqual(2);
    }
  }, 120_000);
});
