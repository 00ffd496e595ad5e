import fs from 'node:fs';
import path from 'node:path';
import type { ImageSplit } from '../src';

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
