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
