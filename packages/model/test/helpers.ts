import fs from 'node:fs';
import path from 'node:path';
import type { BackendName, ImageSplit } from '../src';

/** A learnable synthetic task: the class is which quadrant of the image is bright. */
export function quadrantTask(count: number, size = 8, seed = 1): ImageSplit {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const images = new Uint8Array(count * size * size * 3);
  const labels = new Uint8Array(count);
  const half = size / 2;
  for (let i = 0; i < count; i++) {
    const label = i % 4;
    labels[i] = label;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const q = (y >= half ? 2 : 0) + (x >= half ? 1 : 0);
        for (let c = 0; c < 3; c++)
          images[((i * size + y) * size + x) * 3 + c] = Math.floor((q === label ? 160 : 20) + random() * 80);
      }
  }
  return { images, labels, count, height: size, width: size, channels: 3 };
}

/** ../shared/data/cifar-10-batches-bin next to the repository root, when present. */
export function cifarDir(): string | undefined {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  const data = path.join(dir, '..', 'shared', 'data', 'cifar-10-batches-bin');
  return fs.existsSync(path.join(data, 'data_batch_1.bin')) ? data : undefined;
}

/** ../shared beside the repository root, when present. */
export function sharedDir(): string | undefined {
  const data = cifarDir();
  return data === undefined ? undefined : path.resolve(data, '..', '..');
}

/** The Keras-trained CIFAR-10 model (layers and graph formats) with Keras' own test-set probabilities. */
export function kerasModelDir(): string | undefined {
  const shared = sharedDir();
  const dir = shared === undefined ? undefined : path.join(shared, 'models', 'keras-cifar10');
  return dir !== undefined && fs.existsSync(path.join(dir, 'keras-test-probabilities.f32')) ? dir : undefined;
}

/** The first `count` CIFAR-10 test images as NHWC uint8, with their labels. */
export function cifarTestImages(count: number): { images: Uint8Array; labels: Uint8Array } {
  const bytes = fs.readFileSync(path.join(cifarDir()!, 'test_batch.bin'));
  const images = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = bytes[i * 3073]!;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) images[i * 3072 + p * 3 + c] = bytes[i * 3073 + 1 + c * 1024 + p]!;
    }
  }
  return { images, labels };
}

export interface LinearGraph {
  weights: Float32Array;
  /** What the graph computes for float32 NHWC images: (flattened x) W, then softmax when asked. */
  predict(images: Float32Array, count: number): Float32Array;
}

/**
 * Writes a TensorFlow.js graph model by hand (what the converter writes): input x [-1, h, w, c]
 * (or [-1, -1, -1, c] when `dynamic`), Reshape, MatMul with a seeded weight matrix, then Softmax
 * or nothing (logits), output Identity.
 */
export function writeLinearGraph(
  dir: string,
  o: {
    height: number;
    width: number;
    channels: number;
    classes: number;
    softmax: boolean;
    seed?: number;
    dynamic?: boolean;
  },
): LinearGraph {
  const features = o.height * o.width * o.channels;
  let state = o.seed ?? 7;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const weights = Float32Array.from({ length: features * o.classes }, () => (random() - 0.5) * 0.2);
  const dims = (values: number[]) => ({ dim: values.map((size) => ({ size: String(size) })) });
  const input = o.dynamic ? [-1, -1, -1, o.channels] : [-1, o.height, o.width, o.channels];
  const float = { type: 'DT_FLOAT' };
  const nodes = [
    { name: 'x', op: 'Placeholder', attr: { dtype: float, shape: { shape: dims(input) } } },
    {
      name: 'W',
      op: 'Const',
      attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims([features, o.classes]) } }, dtype: float },
    },
    {
      name: 'flat_shape',
      op: 'Const',
      attr: { value: { tensor: { dtype: 'DT_INT32', tensorShape: dims([2]) } }, dtype: { type: 'DT_INT32' } },
    },
    { name: 'flat', op: 'Reshape', input: ['x', 'flat_shape'], attr: { T: float, Tshape: { type: 'DT_INT32' } } },
    {
      name: 'logits',
      op: 'MatMul',
      input: ['flat', 'W'],
      attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } },
    },
    ...(o.softmax ? [{ name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: float } }] : []),
    { name: 'Identity', op: 'Identity', input: [o.softmax ? 'probs' : 'logits'], attr: { T: float } },
  ];
  const json = {
    format: 'graph-model',
    generatedBy: 'test',
    convertedBy: 'hand',
    signature: {
      inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: dims(input) } },
      outputs: { output_0: { name: 'Identity:0', dtype: 'DT_FLOAT', tensorShape: dims([-1, o.classes]) } },
    },
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'W', shape: [features, o.classes], dtype: 'float32' },
          { name: 'flat_shape', shape: [2], dtype: 'int32' },
        ],
      },
    ],
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  const shape = new Int32Array([-1, features]);
  fs.writeFileSync(
    path.join(dir, 'group1-shard1of1.bin'),
    Buffer.concat([Buffer.from(weights.buffer), Buffer.from(shape.buffer)]),
  );
  return {
    weights,
    predict(images, count) {
      const out = new Float32Array(count * o.classes);
      for (let i = 0; i < count; i++) {
        const logits = new Float64Array(o.classes);
        for (let f = 0; f < features; f++) {
          const x = images[i * features + f]!;
          for (let k = 0; k < o.classes; k++) logits[k]! += x * weights[f * o.classes + k]!;
        }
        if (o.softmax) {
          const max = Math.max(...logits);
          let sum = 0;
          for (let k = 0; k < o.classes; k++) sum += logits[k] = Math.exp(logits[k]! - max);
          for (let k = 0; k < o.classes; k++) logits[k]! /= sum;
        }
        out.set(logits, i * o.classes);
      }
      return out;
    },
  };
}

/**
 * The backend for tests whose assertions hold on every backend: $TTA_TEST_BACKEND (CI runs
 * these suites a second time with it set to tensorflow), else the suite's own choice.
 */
export function testBackend(fallback: Exclude<BackendName, 'auto'>): Exclude<BackendName, 'auto'> {
  const value = process.env.TTA_TEST_BACKEND;
  if (value === undefined || value === '') return fallback;
  const names = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'];
  if (!names.includes(value))
    throw new RangeError(`Expected one of ${names.join(', ')} for TTA_TEST_BACKEND but received '${value}'`);
  return value as Exclude<BackendName, 'auto'>;
}
