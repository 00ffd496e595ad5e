// One training step of the reference CIFAR-10 CNN from identical weights on cpu and native.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { addon } from '../lib/addon';
import { backendInfo } from '../lib';
import { rng } from './helpers';

function referenceCnn(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
  );
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 128, activation: 'relu' }));
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

interface StepResult {
  loss: number;
  weights: Float32Array[];
  predictions: Float32Array;
}

async function trainStep(
  backend: string,
  initial: Float32Array[],
  x: Float32Array,
  labels: number[],
): Promise<StepResult> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const model = referenceCnn();
  const shapes = model.getWeights().map((w) => w.shape);
  const start = initial.map((values, i) => tf.tensor(values, shapes[i]));
  model.setWeights(start);
  tf.dispose(start);
  const xs = tf.tensor4d(x, [labels.length, 32, 32, 3]);
  const ys = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32'));
  const loss = (await model.trainOnBatch(xs, ys)) as number;
  const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  const predictions = tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync().slice() as Float32Array);
  tf.dispose([xs, ys]);
  model.dispose();
  // The optimizer's slots (Adam moments) live with the model; everything else must be gone.
  expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 64);
  return { loss, weights, predictions };
}

describe('reference CNN training step', () => {
  jest.setTimeout(120_000);

  it('gives the same loss, updated weights and predictions on native as on cpu, through the native kernels', async () => {
    await tf.setBackend('cpu');
    const random = rng(7);
    const initial = tf.tidy(() =>
      referenceCnn()
        .getWeights()
        .map((w) => w.dataSync().slice() as Float32Array),
    );
    // Glorot weights from tfjs' own generator differ run to run; replace them with seeded values of the same scale.
    for (const w of initial)
      for (let i = 0; i < w.length; i++) if (w[i] !== 0 && w[i] !== 1) w[i] = (random() - 0.5) * 0.2;
    // 8 images: the second convolution's 8 x 16 tiles of 4x4 are enough for Winograd's (128).
    const batch = 8;
    const x = Float32Array.from({ length: batch * 32 * 32 * 3 }, () => random());
    const labels = Array.from({ length: batch }, (_, i) => i % 10);

    const cpu = await trainStep('cpu', initial, x, labels);
    const calls = { conv2d: 0, conv2dBackpropFilter: 0, matMul: 0 };
    const spies = (Object.keys(calls) as Array<keyof typeof calls>).map((name) => {
      const original = addon[name] as (...args: unknown[]) => void;
      return jest.spyOn(addon, name).mockImplementation(((...args: unknown[]) => {
        calls[name]++;
        original(...args);
      }) as never);
    });
    const winograd = backendInfo().winogradConvolutions;
    const native = await trainStep('native', initial, x, labels);
    spies.forEach((s) => s.mockRestore());
    // The second convolution (32 -> 64 channels) and its input gradient ran as Winograd's
    // F(4x4, 3x3) where the CPU has AVX2 or AVX-512; everything below holds for them too.
    if (backendInfo().winograd !== '') expect(backendInfo().winogradConvolutions - winograd).toBeGreaterThanOrEqual(2);
    expect(calls.conv2d).toBeGreaterThan(0);
    expect(calls.conv2dBackpropFilter).toBeGreaterThan(0);
    expect(calls.matMul).toBeGreaterThan(0);

    expect(Math.abs(native.loss - cpu.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(cpu.loss));
    expect(native.weights.length).toBe(cpu.weights.length);
    // Adam's first step is about lr * sign(gradient): where the exact gradient is zero (the
    // biases of the layers feeding a batch norm: 224 of ~300k weights) or near Adam's epsilon,
    // summation-order noise decides the sign and can move that weight by up to 2 * lr. Every
    // weight stays within that bound and all but a few tenths of a percent agree to 1e-5.
    let total = 0,
      loose = 0;
    cpu.weights.forEach((expected, i) => {
      const actual = native.weights[i]!;
      expect(actual.length).toBe(expected.length);
      for (let j = 0; j < expected.length; j++) {
        const difference = Math.abs(actual[j]! - expected[j]!);
        expect(difference).toBeLessThanOrEqual(2e-3);
        if (difference > 1e-5) loose++;
      }
      total += expected.length;
    });
    expect(loose / total).toBeLessThan(3e-3);
    let worstPrediction = 0;
    cpu.predictions.forEach((p, i) => {
      worstPrediction = Math.max(worstPrediction, Math.abs(native.predictions[i]! - p));
    });
    expect(worstPrediction).toBeLessThanOrEqual(1e-4);
  });
});
