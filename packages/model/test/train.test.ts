import * as tf from '@tensorflow/tfjs-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createModel, loadModel, predict, saveModel, selectBackend, train, trainCached, ModelFileError } from '../src';
import { quadrantTask, testBackend } from './helpers';

const BACKEND = testBackend('wasm');
// On tensorflow the first test also pays for loading TensorFlow (a 788 MB library) and its first
// kernels, about 2 s; on a busy 2-core machine that pushed it past jest's default 5 s.
jest.setTimeout(30_000);

const data = quadrantTask(256, 8, 1);
const shape: [number, number, number] = [8, 8, 3];
let tmp: string;

beforeAll(async () => {
  await selectBackend(BACKEND);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tta-model-test-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('training on a small learnable task reaches high accuracy, with validation and progress reports', async () => {
  const model = createModel('small-cnn', { seed: 3, numClasses: 4, inputShape: shape });
  const reports: number[] = [];
  const result = await train(model, data, {
    epochs: 6,
    batchSize: 16,
    seed: 3,
    validation: 0.25,
    onProgress: (p) => reports.push(p.done),
  });
  expect(result.history.loss).toHaveLength(6);
  expect(result.history.loss[5]!).toBeLessThan(result.history.loss[0]!);
  expect(result.history.valAccuracy![5]!).toBeGreaterThan(0.9);
  expect(reports[reports.length - 1]).toBe(192);
  expect(result.imagesPerSecond).toBeGreaterThan(0);
  const probabilities = await predict(model, data.images, { batchSize: 50 });
  expect(probabilities).toHaveLength(256 * 4);
  let correct = 0;
  for (let i = 0; i < 256; i++) {
    const row = Array.from(probabilities.subarray(i * 4, i * 4 + 4));
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    if (row.indexOf(Math.max(...row)) === data.labels[i]) correct++;
  }
  expect(correct / 256).toBeGreaterThan(0.9);
  model.dispose();
});

test('the same seed on the same backend gives the same weights (with augmentation); another seed does not', async () => {
  const weightsAfter = async (seed: number) => {
    const model = createModel('small-cnn', { seed, numClasses: 4, inputShape: shape });
    await train(model, data, { epochs: 1, batchSize: 32, seed, augment: { flip: true, shift: 1 } });
    const w = model.getWeights().map((t) => Array.from(t.dataSync()));
    model.dispose();
    return w;
  };
  const a = await weightsAfter(11);
  expect(await weightsAfter(11)).toEqual(a);
  expect((await weightsAfter(12))[0]).not.toEqual(a[0]);
});

test('training and prediction leak no tensors', async () => {
  const model = createModel('small-cnn', { seed: 1, numClasses: 4, inputShape: shape });
  await train(model, data, { epochs: 1, batchSize: 64, seed: 1 }); // creates the optimizer's slots
  const before = tf.memory().numTensors;
  await train(model, data, { epochs: 1, batchSize: 64, seed: 1, validation: 32, augment: { shift: 2 } });
  await predict(model, data.images, { batchSize: 100 });
  await predict(model, new Float32Array(data.images.length / 2), { batchSize: 100 });
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();
});

test('an aborted signal stops training at the next batch with an AbortError, and SIGINT does the same on request', async () => {
  const model = createModel('small-cnn', { seed: 1, numClasses: 4, inputShape: shape });
  const controller = new AbortController();
  let batches = 0;
  const run = train(model, data, {
    epochs: 3,
    batchSize: 16,
    seed: 1,
    signal: controller.signal,
    onProgress: () => ++batches === 2 && controller.abort(),
  });
  await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  expect(batches).toBe(2);
  let sigintBatches = 0;
  const listeners = process.listenerCount('SIGINT');
  const viaSigint = train(model, data, {
    epochs: 1,
    batchSize: 16,
    seed: 1,
    cancelOnSigint: true,
    onProgress: () => ++sigintBatches === 1 && process.emit('SIGINT'),
  });
  await expect(viaSigint).rejects.toMatchObject({ name: 'AbortError' });
  expect(sigintBatches).toBe(1);
  expect(process.listenerCount('SIGINT')).toBe(listeners);
  model.dispose();
});

test('bad training input gets clear errors', async () => {
  const model = createModel('small-cnn', { numClasses: 4, inputShape: shape });
  await expect(train(model, { ...data, count: 3 })).rejects.toThrow(/for data but received count 3/);
  await expect(train(model, quadrantTask(8, 16))).rejects.toThrow(/input shape 8x8x3.*16x16x3/);
  await expect(train(model, data, { epochs: 0 })).rejects.toThrow(
    /Expected an integer >= 1 for options.epochs but received 0/,
  );
  await expect(train(model, data, { validation: 256 })).rejects.toThrow(/options.validation/);
  await expect(train(model, { ...data, labels: new Uint8Array(256).fill(7) })).rejects.toThrow(/class index below 4/);
  model.dispose();
});

test('save then load gives identical predictions and the metadata; saving again replaces the model atomically', async () => {
  const model = createModel('small-cnn', { seed: 5, numClasses: 4, inputShape: shape });
  await train(model, data, { epochs: 1, batchSize: 32, seed: 5 });
  const dir = path.join(tmp, 'saved');
  await saveModel(model, dir, { architecture: 'small-cnn', seed: 5, backend: BACKEND, metrics: { accuracy: 0.5 } });
  expect(fs.readdirSync(dir).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
  const { model: loaded, metadata } = await loadModel(dir, { inputShape: shape });
  expect(metadata).toMatchObject({ architecture: 'small-cnn', seed: 5, backend: BACKEND, metrics: { accuracy: 0.5 } });
  expect(await predict(loaded, data.images)).toEqual(await predict(model, data.images));
  await saveModel(model, dir, { architecture: 'small-cnn', seed: 6 });
  expect((await loadModel(dir)).metadata?.seed).toBe(6);
  expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
  model.dispose();
  loaded.dispose();
});

test('corrupt, missing or mismatched model files give clear errors', async () => {
  const model = createModel('small-cnn', { seed: 5, numClasses: 4, inputShape: shape });
  const dir = path.join(tmp, 'corrupt');
  await saveModel(model, dir, { architecture: 'small-cnn' });
  await expect(loadModel(dir, { inputShape: [32, 32, 3] })).rejects.toThrow(
    /takes 8x8x3 images .* but the data has 32x32x3 images/,
  );
  const shard = path.join(dir, 'group1-shard1of1.bin');
  fs.writeFileSync(shard, fs.readFileSync(shard).subarray(0, 100));
  await expect(loadModel(dir)).rejects.toThrow(/hold 100 bytes but model.json describes \d+/);
  fs.rmSync(shard);
  await expect(loadModel(dir)).rejects.toThrow(/names weight file group1-shard1of1.bin, which cannot be read/);
  fs.writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": ');
  await expect(loadModel(dir)).rejects.toThrow(ModelFileError);
  await expect(loadModel(dir)).rejects.toThrow(/is not valid JSON/);
  await expect(loadModel(path.join(tmp, 'nothing-here'))).rejects.toThrow(/No model at .*model.json does not exist/);
  model.dispose();
});

test('loads a hand-made Keras-style layers model and predicts what its weights say', async () => {
  const dir = path.join(tmp, 'keras');
  fs.mkdirSync(dir);
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'keras v2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      keras_version: '2.15.0',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Sequential',
        config: {
          name: 'sequential',
          layers: [
            {
              class_name: 'InputLayer',
              config: { batch_input_shape: [null, 2, 1, 1], dtype: 'float32', sparse: false, name: 'input_1' },
            },
            {
              class_name: 'Flatten',
              config: { name: 'flatten', trainable: true, dtype: 'float32', data_format: 'channels_last' },
            },
            {
              class_name: 'Dense',
              config: {
                name: 'dense',
                trainable: true,
                dtype: 'float32',
                units: 2,
                activation: 'linear',
                use_bias: true,
                kernel_initializer: { class_name: 'Zeros', config: {} },
                bias_initializer: { class_name: 'Zeros', config: {} },
                kernel_regularizer: null,
                bias_regularizer: null,
                activity_regularizer: null,
                kernel_constraint: null,
                bias_constraint: null,
              },
            },
          ],
        },
      },
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'dense/kernel', shape: [2, 2], dtype: 'float32' },
          { name: 'dense/bias', shape: [2], dtype: 'float32' },
        ],
      },
    ],
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  // kernel [[1, 0], [0, 2]], bias [0.5, -0.5]
  fs.writeFileSync(
    path.join(dir, 'group1-shard1of1.bin'),
    Buffer.from(new Float32Array([1, 0, 0, 2, 0.5, -0.5]).buffer),
  );
  const { model, metadata } = await loadModel(dir, { inputShape: [2, 1, 1] });
  expect(metadata).toBeUndefined();
  const p = await predict(model, new Float32Array([1, 1, 0.25, 0]));
  const softmax = (a: number, b: number) => [
    Math.exp(a) / (Math.exp(a) + Math.exp(b)),
    Math.exp(b) / (Math.exp(a) + Math.exp(b)),
  ];
  const expected = [...softmax(1.5, 1.5), ...softmax(0.75, -0.5)];
  Array.from(p).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  model.dispose();
});

test('trainCached trains once, then reuses the saved model for the same request and retrains for another', async () => {
  const request = {
    data,
    architecture: 'small-cnn',
    trainOptions: { epochs: 1, batchSize: 64, seed: 9, numClasses: 4 },
    cacheDir: tmp,
  };
  const first = await trainCached(request);
  expect(first.source).toBe('trained');
  expect(first.metadata).toMatchObject({
    architecture: 'small-cnn',
    seed: 9,
    backend: BACKEND,
    trainOptions: { epochs: 1, batchSize: 64 },
  });
  expect(first.metadata.datasetChecksum).toMatch(/^[0-9a-f]{64}$/);
  const second = await trainCached(request);
  expect(second.source).toBe('cache');
  expect(second.dir).toBe(first.dir);
  expect(await predict(second.model, data.images)).toEqual(await predict(first.model, data.images));
  const other = await trainCached({ ...request, trainOptions: { ...request.trainOptions, seed: 10 } });
  expect(other.source).toBe('trained');
  expect(other.dir).not.toBe(first.dir);
  const forced = await trainCached({ ...request, noCache: true });
  expect(forced.source).toBe('trained');
  for (const r of [first, second, other, forced]) r.model.dispose();
});
