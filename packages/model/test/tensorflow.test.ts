// The tensorflow backend (@tensorflow/tfjs-node built by scripts/setup-tensorflow.sh against the
// libtensorflow of TensorFlow's pip wheel) and tensorflow-gpu (the same with the CUDA wheel).
// Where a backend is not set up, its tests say so in one line and skip; with TTA_TEST_BACKEND
// naming it (as CI does once setup reported it working) they run and fail instead.
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCifar10 } from '@tta/data';
import {
  BackendUnavailableError,
  createReferenceCnn,
  loadModel,
  predict,
  saveModel,
  selectBackend,
  tensorflowInstallProblem,
  train,
} from '../src';
import { cifarDir, kerasModelDir, quadrantTask } from './helpers';

jest.setTimeout(300_000);

/** Why `pkg` cannot run here, or undefined when its binding is built and its libraries are in place. */
function unavailable(pkg: string): string | undefined {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return `${pkg} is not installed`;
  }
  return tensorflowInstallProblem(dir);
}

function gate(backend: 'tensorflow' | 'tensorflow-gpu', reason: string | undefined): jest.Describe {
  if (reason === undefined || process.env.TTA_TEST_BACKEND === backend) return describe;
  process.stderr.write(`${backend} tests skipped: ${reason}\n`);
  return describe.skip;
}

const nvidia = ['/proc/driver/nvidia/version', '/dev/nvidiactl', '/dev/dxg'].some((f) => fs.existsSync(f));
const describeTensorflow = gate(
  'tensorflow',
  unavailable('@tensorflow/tfjs-node') &&
    `${unavailable('@tensorflow/tfjs-node')}; run bash scripts/setup-tensorflow.sh`,
);
const describeGpu = gate(
  'tensorflow-gpu',
  !nvidia
    ? 'no NVIDIA GPU on this machine'
    : unavailable('@tensorflow/tfjs-node-gpu') &&
        `${unavailable('@tensorflow/tfjs-node-gpu')}; run bash scripts/setup-tensorflow.sh --gpu`,
);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tta-tensorflow-test-'));
afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await selectBackend('cpu');
});

describe('tensorflowInstallProblem', () => {
  const fakePackage = (name: string) => {
    const dir = path.join(fs.mkdtempSync(path.join(tmp, 'pkg-')), name);
    fs.mkdirSync(path.join(dir, 'deps', 'lib'), { recursive: true });
    return dir;
  };

  test('names the missing binding, a missing libtensorflow and a dangling link', () => {
    const dir = fakePackage('tfjs-node');
    expect(tensorflowInstallProblem(dir)).toMatch(
      /^tfjs-node's binding is not built \(expected lib\/napi-v\*\/tfjs_binding.node in .*tfjs-node; received none\)$/,
    );
    fs.mkdirSync(path.join(dir, 'lib', 'napi-v8'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'), '');
    expect(tensorflowInstallProblem(dir)).toMatch(
      /^tfjs-node has no libtensorflow \(expected libraries or links in .*deps\/lib; received none\)$/,
    );
    const wheel = path.join(tmp, 'moved-wheel', 'libtensorflow_cc.so.2');
    fs.symlinkSync(wheel, path.join(dir, 'deps', 'lib', 'libtensorflow_cc.so.2'));
    expect(tensorflowInstallProblem(dir)).toBe(
      `${path.join(dir, 'deps', 'lib', 'libtensorflow_cc.so.2')} links to ${wheel}, which does not exist (the TensorFlow wheel it was built against was moved or removed)`,
    );
    fs.mkdirSync(path.dirname(wheel));
    fs.writeFileSync(wheel, '');
    expect(tensorflowInstallProblem(dir)).toBeUndefined();
  });

  test('a broken install asked for by name is a BackendUnavailableError naming the dangling link and the script', async () => {
    const dir = fakePackage('tfjs-node');
    fs.mkdirSync(path.join(dir, 'lib', 'napi-v8'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'), '');
    fs.symlinkSync(
      '/nonexistent/site-packages/tensorflow/libtensorflow_cc.so.2',
      path.join(dir, 'deps', 'lib', 'libtensorflow.so'),
    );
    const selection = selectBackend('tensorflow', { resolvePackage: () => dir });
    await expect(selection).rejects.toThrow(BackendUnavailableError);
    await expect(selectBackend('tensorflow', { resolvePackage: () => dir })).rejects.toThrow(
      /^Backend 'tensorflow' is not available: .*deps\/lib\/libtensorflow\.so links to \/nonexistent\/site-packages\/tensorflow\/libtensorflow_cc\.so\.2, which does not exist \(the TensorFlow wheel it was built against was moved or removed\)\. To get it, run `bash scripts\/setup-tensorflow\.sh`/,
    );
    const auto = await selectBackend('auto', { resolvePackage: () => dir });
    expect(auto.backend).not.toBe('tensorflow');
  });
});

describeTensorflow('tensorflow backend (TensorFlow C library from the pip wheel)', () => {
  test('is selected by name; auto takes native ahead of TensorFlow on the CPU (the faster here)', async () => {
    const selection = await selectBackend('tensorflow');
    expect(selection).toMatchObject({ backend: 'tensorflow', engineBackend: 'tensorflow' });
    expect(tf.getBackend()).toBe('tensorflow');
    const auto = await selectBackend('auto');
    if (auto.backend !== 'tensorflow-gpu') expect(auto.backend).toBe('native');
  });

  test('a training step of the reference CNN matches native from the same weights, within tolerance', async () => {
    const values = tf.tidy(() => ({
      x: tf.randomUniform([8, 32, 32, 3], 0, 1, 'float32', 11).dataSync<'float32'>().slice(),
      y: tf
        .oneHot(tf.tensor1d([3, 1, 4, 1, 5, 9, 2, 6], 'int32'), 10)
        .dataSync<'int32'>()
        .slice(),
    }));
    const step = async (backend: 'tensorflow' | 'native') => {
      await selectBackend(backend);
      const model = createReferenceCnn({ seed: 4 });
      const before = model.getWeights().map((w) => w.dataSync<'float32'>().slice());
      // Plain SGD, as in the native-vs-cpu step test: Adam's first step is about lr * sign(gradient),
      // so summation-order noise in near-zero gradients would swamp the comparison.
      model.optimizer.dispose();
      model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
      const x = tf.tensor4d(values.x, [8, 32, 32, 3]);
      const y = tf.tensor2d(Float32Array.from(values.y), [8, 10]);
      const loss = (await model.trainOnBatch(x, y)) as number;
      const updates = model.getWeights().map((w, i) => w.dataSync<'float32'>().map((v, j) => v - before[i]![j]!));
      tf.dispose([x, y]);
      model.optimizer.dispose();
      model.dispose();
      return { before, loss, updates };
    };
    const native = await step('native');
    const tensorflow = await step('tensorflow');
    expect(tensorflow.before).toEqual(native.before);
    expect(Math.abs(tensorflow.loss - native.loss)).toBeLessThanOrEqual(1e-4 * native.loss);
    // Each weight's update agrees to within a small share of the largest update of its tensor.
    const worst = native.updates.map((expected, i) => {
      const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      let difference = 0;
      expected.forEach((v, j) => (difference = Math.max(difference, Math.abs(v - tensorflow.updates[i]![j]!))));
      return difference / scale;
    });
    process.stderr.write(
      `training step, tensorflow vs native: loss ${tensorflow.loss.toFixed(6)} vs ${native.loss.toFixed(6)}, worst relative update difference ${Math.max(...worst).toExponential(2)}\n`,
    );
    for (const w of worst) expect(w).toBeLessThan(1e-3);
  });

  test('the reference CNN trains, saves and loads: the loaded model predicts the same probabilities', async () => {
    await selectBackend('tensorflow');
    const data = quadrantTask(256, 32, 5);
    const model = createReferenceCnn({ seed: 5, numClasses: 4 });
    const result = await train(model, data, { epochs: 2, batchSize: 32, seed: 5 });
    expect(result.history.loss[1]!).toBeLessThan(result.history.loss[0]!);
    const dir = path.join(tmp, 'reference-cnn');
    await saveModel(model, dir, { architecture: 'reference-cnn', seed: 5, backend: 'tensorflow' });
    const { model: loaded, metadata } = await loadModel(dir, { inputShape: [32, 32, 3] });
    expect(metadata).toMatchObject({ architecture: 'reference-cnn', backend: 'tensorflow' });
    const expected = await predict(model, data.images);
    const actual = await predict(loaded, data.images);
    expect(actual).toEqual(expected);
    let correct = 0;
    for (let i = 0; i < data.count; i++) {
      const row = Array.from(expected.subarray(i * 4, i * 4 + 4));
      if (row.indexOf(Math.max(...row)) === data.labels[i]) correct++;
    }
    expect(correct / data.count).toBeGreaterThan(0.9);
    model.dispose();
    loaded.dispose();
  });

  const keras = kerasModelDir();
  const cifar = cifarDir();
  const haveKeras =
    keras !== undefined && cifar !== undefined && fs.existsSync(path.join(keras, 'layers', 'model.json'));
  (haveKeras ? test : test.skip)(
    "the Keras model predicts Keras' own probabilities on the 10,000 test images within 1e-5",
    async () => {
      await selectBackend('tensorflow');
      const { model } = await loadModel(path.join(keras!, 'layers'), { inputShape: [32, 32, 3] });
      const { test: images } = await loadCifar10({ dir: cifar!, download: false, verify: false });
      const bytes = fs.readFileSync(path.join(keras!, 'keras-test-probabilities.f32'));
      const expected = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      expect(expected.length).toBe(images.count * 10);
      const actual = await predict(model, images.images, { batchSize: 500 });
      let maxDifference = 0;
      for (let i = 0; i < actual.length; i++)
        maxDifference = Math.max(maxDifference, Math.abs(actual[i]! - expected[i]!));
      process.stderr.write(`keras-cifar10 on tensorflow: max |p - p_keras| = ${maxDifference.toExponential(2)}\n`);
      expect(maxDifference).toBeLessThan(1e-5);
      model.dispose();
    },
  );
});

describeGpu('tensorflow-gpu backend (TensorFlow CUDA wheel)', () => {
  // In a process of its own: both wheels' libraries have the soname libtensorflow_cc.so.2, so
  // where the CPU package was loaded first (above), the GPU binding would bind to its library.
  test('trains the reference CNN for one epoch on the GPU device', () => {
    const script = `
      const model = require('./dist');
      const { loadCifar10, subset } = require('@tta/data');
      (async () => {
        const selection = await model.selectBackend('tensorflow-gpu');
        const tf = require('@tensorflow/tfjs-core');
        const dir = process.argv[1];
        const data = dir ? subset((await loadCifar10({ dir, download: false, verify: false })).train, { count: 10000, stratified: true, seed: 1 }) : null;
        const cnn = model.createReferenceCnn({ seed: 1 });
        const result = await model.train(cnn, data, { epochs: 1, batchSize: 128, seed: 1 });
        console.log(JSON.stringify({ backend: selection.backend, gpu: tf.backend().isUsingGpuDevice, loss: result.history.loss[0], imagesPerSecond: result.imagesPerSecond, count: data.count }));
      })().catch((e) => { console.error(e.message); process.exit(1); });`;
    const dir = cifarDir();
    expect(dir).toBeDefined();
    const child = spawnSync(process.execPath, ['-e', script, dir!], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    expect(child.stderr.split('\n').filter((l) => /Error|error:/.test(l))).toEqual([]);
    expect(child.status).toBe(0);
    const report = JSON.parse(child.stdout.trim().split('\n').pop()!);
    process.stderr.write(
      `tensorflow-gpu: one epoch of ${report.count} CIFAR-10 images at ${report.imagesPerSecond.toFixed(0)} img/s\n`,
    );
    expect(report).toMatchObject({ backend: 'tensorflow-gpu', gpu: true });
    expect(Number.isFinite(report.loss)).toBe(true);
  });
});
