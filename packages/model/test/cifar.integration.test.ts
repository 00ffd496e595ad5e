import * as tf from '@tensorflow/tfjs-core';
import { loadCifar10, subset } from '@tta/data';
import { createReferenceCnn, predict, selectBackend, train } from '../src';
import { cifarDir, testBackend } from './helpers';

const dir = cifarDir();
// Skipped (with the reason in its title, which pnpm test:ci lists) when the data is not there.
const maybe =
  dir === undefined
    ? (title: string, fn: () => Promise<void>, timeout?: number) =>
        test.skip(`${title} (skipped: no CIFAR-10 beside the repository)`, fn, timeout)
    : test;

maybe(
  'one epoch of the reference CNN on a few thousand real CIFAR-10 images beats chance by a wide margin',
  async () => {
    const { backend } = await selectBackend(testBackend('native'));
    const dataset = await loadCifar10({ dir: dir!, download: false, verify: false });
    const trainSet = subset(dataset.train, { count: 5000, stratified: true, seed: 1 });
    const testSet = subset(dataset.test, { count: 1000, stratified: true, seed: 2 });
    const model = createReferenceCnn({ seed: 1 });
    // Small batches: the BatchNorm moving statistics (momentum 0.99) need a few hundred steps to settle for inference.
    const result = await train(model, trainSet, { epochs: 1, batchSize: 32, seed: 1 });
    const probabilities = await predict(model, testSet.images);
    let correct = 0;
    for (let i = 0; i < testSet.count; i++) {
      const row = probabilities.subarray(i * 10, i * 10 + 10);
      let best = 0;
      for (let k = 1; k < 10; k++) if (row[k]! > row[best]!) best = k;
      if (best === testSet.labels[i]) correct++;
    }
    const accuracy = correct / testSet.count;
    process.stderr.write(
      `cifar integration on ${backend}: ${result.imagesPerSecond.toFixed(0)} img/s training, test accuracy ${accuracy}\n`,
    );
    // Chance is 0.10 (standard deviation 0.0095 over 1000 images); one short epoch reaches about 0.23 on native and
    // wasm alike.
    expect(accuracy).toBeGreaterThan(0.18);
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(5);
  },
  300_000,
);
