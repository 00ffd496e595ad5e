import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, conv2dBackpropFilterComposed, createModel, selectBackend, train } from '../src';
import { quadrantTask } from './helpers';

// The real loader, wrapped to simulate missing packages.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realRequire = (id: string) => require(id);
const missing = (names: string[]) => (id: string) => {
  if (names.includes(id)) throw new Error(`Cannot find module '${id}'`);
  return realRequire(id);
};

afterAll(async () => {
  await selectBackend('cpu');
});

test('auto falls back past missing backends, and says why each was skipped', async () => {
  const lines: string[] = [];
  const all = [
    '@tensorflow/tfjs-node-gpu',
    '@tta/tfjs-backend-native',
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-backend-wasm',
  ];
  const selection = await selectBackend('auto', { explain: true, log: (l) => lines.push(l), require: missing(all) });
  expect(selection.backend).toBe('cpu');
  expect(tf.getBackend()).toBe('cpu');
  expect(selection.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'native', 'tensorflow', 'wasm']);
  expect(selection.skipped[0]!.reason).toMatch(/Cannot find module '@tensorflow\/tfjs-node-gpu'/);
  expect(lines).toEqual([
    ...selection.skipped.map((s) => `backend ${s.name} skipped: ${s.reason}`),
    'backend cpu selected',
  ]);
  const wasm = await selectBackend('auto', { require: missing(all.slice(0, 3)) });
  expect(wasm.backend).toBe('wasm');
  expect(tf.getBackend()).toBe('wasm');
});

test('auto on this machine takes the first backend that works', async () => {
  const selection = await selectBackend();
  expect(['tensorflow-gpu', 'tensorflow', 'native', 'wasm']).toContain(selection.backend);
  expect(tf.getBackend()).toBe(selection.engineBackend);
});

test('an unavailable backend asked for by name is a clear error saying how to get it', async () => {
  const gpu = selectBackend('tensorflow-gpu', { require: missing(['@tensorflow/tfjs-node-gpu']) });
  await expect(gpu).rejects.toThrow(BackendUnavailableError);
  await expect(selectBackend('tensorflow-gpu', { require: missing(['@tensorflow/tfjs-node-gpu']) })).rejects.toThrow(
    /Backend 'tensorflow-gpu' is not available: Cannot find module .*run `bash scripts\/setup-tensorflow\.sh --gpu`.*tensorflow\[and-cuda\]/,
  );
  await expect(selectBackend('tensorflow', { require: missing(['@tensorflow/tfjs-node']) })).rejects.toThrow(
    /run `bash scripts\/setup-tensorflow\.sh` .*@tensorflow\/tfjs-node 4\.22\.0 against the libtensorflow of the tensorflow-cpu wheel/,
  );
  await expect(selectBackend('native', { require: missing(['@tta/tfjs-backend-native']) })).rejects.toThrow(
    /@tta\/tfjs-backend-native/,
  );
  await expect(selectBackend('metal' as never)).rejects.toThrow(
    /Expected one of auto, tensorflow-gpu, tensorflow, native, wasm, cpu for backend but received 'metal'/,
  );
});

test('the composed Conv2DBackpropFilter matches the cpu kernel for strides and paddings', async () => {
  await selectBackend('cpu');
  const x = tf.randomUniform([2, 9, 8, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
  for (const [stride, pad] of [
    [1, 'same'],
    [2, 'same'],
    [2, 'valid'],
    [1, 1],
  ] as const) {
    const dyShape = tf.conv2d(x, tf.zeros([3, 3, 3, 4]) as tf.Tensor4D, stride, pad).shape;
    const dy = tf.randomUniform(dyShape, -1, 1, 'float32', 2) as tf.Tensor4D;
    const expected = await tf
      .tidy(() =>
        tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, stride, pad), dy)))(
          tf.zeros([3, 3, 3, 4]),
        ),
      )
      .data();
    const actual = await conv2dBackpropFilterComposed(x, dy, [3, 3, 3, 4], stride, pad).data();
    Array.from(actual).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
  }
});

test('a training step on wasm matches cpu within tolerance, and leaves no tensors behind', async () => {
  const data = quadrantTask(32, 8, 4);
  const stepWeights = async (backend: 'cpu' | 'wasm') => {
    await selectBackend(backend);
    const model = createModel('small-cnn', { seed: 21, numClasses: 4, inputShape: [8, 8, 3] });
    await train(model, data, { epochs: 1, batchSize: 16, seed: 21 });
    const before = tf.memory().numTensors;
    await train(model, data, { epochs: 1, batchSize: 16, seed: 22 });
    expect(tf.memory().numTensors).toBe(before);
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    return weights;
  };
  const cpu = await stepWeights('cpu');
  const wasm = await stepWeights('wasm');
  expect(wasm.length).toBe(cpu.length);
  let maxDifference = 0;
  cpu.forEach((w, i) => w.forEach((v, j) => (maxDifference = Math.max(maxDifference, Math.abs(v - wasm[i]![j]!)))));
  expect(maxDifference).toBeLessThan(1e-3);
}, 60_000);
