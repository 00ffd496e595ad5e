import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { augment, augmentAsync, type Fill, type View } from '../lib/index';
import { augmentReference, sourceIndex } from '../lib/reference';
import { expectBitEqual, randomInt, rng } from './helpers';

const FILLS: Fill[] = ['constant', 'nearest', 'reflect', 'wrap'];

describe('augment semantics', () => {
  // One 1x3x4x1 image with distinct pixels, so every expected output can be written by hand.
  const img = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
  const shape = [1, 3, 4, 1] as const;

  test('identity copies, flip mirrors each row', () => {
    expect(Array.from(augment(img, shape, [{}]))).toEqual(Array.from(img));
    expect(Array.from(augment(img, shape, [{ flip: true }]))).toEqual([3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20]);
  });

  test('positive dx moves content right, positive dy down, with each fill', () => {
    const view = [{ dx: 1, dy: 1 }];
    expect(Array.from(augment(img, shape, view, { fill: 'constant', cval: -1 }))).toEqual([
      -1, -1, -1, -1, -1, 0, 1, 2, -1, 10, 11, 12,
    ]);
    expect(Array.from(augment(img, shape, view, { fill: 'nearest' }))).toEqual([
      0, 0, 1, 2, 0, 0, 1, 2, 10, 10, 11, 12,
    ]);
    expect(Array.from(augment(img, shape, view, { fill: 'wrap' }))).toEqual([
      23, 20, 21, 22, 3, 0, 1, 2, 13, 10, 11, 12,
    ]);
    expect(Array.from(augment(img, shape, view, { fill: 'reflect' }))).toEqual([
      0, 0, 1, 2, 0, 0, 1, 2, 10, 10, 11, 12,
    ]);
  });

  test("reflect is numpy's 'symmetric' (edge repeated) and shifts beyond the image work", () => {
    // Row 0 is [0 1 2 3]; padded symmetrically: ... 2 3 3 2 1 0 | 0 1 2 3 | 3 2 1 0 0 1 ...
    const row = Float32Array.from([0, 1, 2, 3]);
    const r = (dx: number, fill: Fill) => Array.from(augment(row, [1, 1, 4, 1], [{ dx }], { fill, cval: 9 }));
    expect(r(2, 'reflect')).toEqual([1, 0, 0, 1]);
    expect(r(-2, 'reflect')).toEqual([2, 3, 3, 2]);
    expect(r(5, 'reflect')).toEqual([3, 3, 2, 1]);
    expect(r(11, 'reflect')).toEqual([3, 2, 1, 0].map((_, x) => [0, 1, 2, 3][sourceIndex(x - 11, 4, 'reflect')]!));
    expect(r(-9, 'wrap')).toEqual([1, 2, 3, 0]);
    expect(r(100, 'nearest')).toEqual([0, 0, 0, 0]);
    expect(r(-100, 'nearest')).toEqual([3, 3, 3, 3]);
    expect(r(4, 'constant')).toEqual([9, 9, 9, 9]);
    expect(r(2 ** 31 - 1, 'wrap')).toEqual(r((2 ** 31 - 1) % 4, 'wrap'));
  });

  test('flip happens before the shift', () => {
    // f = flipped row [3 2 1 0]; shifted right by 1 with nearest: [3 3 2 1]
    expect(Array.from(augment(Float32Array.from([0, 1, 2, 3]), [1, 1, 4, 1], [{ flip: true, dx: 1 }]))).toEqual([
      3, 3, 2, 1,
    ]);
  });

  test('output is view-major [views, n, h, w, c] and channels move together', () => {
    const two = Uint8Array.from({ length: 2 * 1 * 2 * 2 }, (_, i) => i); // n=2, h=1, w=2, c=2
    const out = augment(two, [2, 1, 2, 2], [{}, { flip: true }]);
    expect(Array.from(out)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 2, 3, 0, 1, 6, 7, 4, 5]);
  });

  test('Uint8 input with scale 1/255 normalises in the same pass; cval is not scaled', () => {
    const bytes = Uint8Array.from([0, 51, 255, 128]);
    const out = augment(bytes, [1, 1, 4, 1], [{ dx: 1 }], { scale: 1 / 255, fill: 'constant', cval: 7 });
    expect(out[0]).toBe(7);
    expect(Array.from(out.subarray(1))).toEqual([0, 51, 255].map((v) => Math.fround(Math.fround(1 / 255) * v)));
  });

  test('reads inputs in place, respecting byteOffset, and writes into out', () => {
    const backing = new Uint8Array(100).map((_, i) => i);
    const view = backing.subarray(10, 22); // 1x2x2x3
    const out = new Float32Array(12);
    const result = augment(view, [1, 2, 2, 3], [{ flip: true }], { out });
    expect(result).toBe(out);
    expect(Array.from(out)).toEqual([13, 14, 15, 10, 11, 12, 19, 20, 21, 16, 17, 18]);
  });

  test('an empty batch gives an empty output', () => {
    expect(augment(new Float32Array(0), [0, 4, 4, 3], [{}, { flip: true }]).length).toBe(0);
  });
});

describe('augment against the TS reference (bit-exact)', () => {
  test('random shapes, views, fills, scales and thread counts', () => {
    const random = rng(1234);
    for (let trial = 0; trial < 60; trial++) {
      const n = randomInt(random, 1, 5);
      const h = randomInt(random, 1, 9);
      const w = randomInt(random, 1, 9);
      const c = [1, 2, 3, 4, 5][randomInt(random, 0, 4)]!;
      const uint8 = random() < 0.5;
      const len = n * h * w * c;
      const images = uint8
        ? Uint8Array.from({ length: len }, () => randomInt(random, 0, 255))
        : Float32Array.from({ length: len }, () => random() * 4 - 2);
      const views: View[] = Array.from({ length: randomInt(random, 1, 6) }, () => ({
        flip: random() < 0.5,
        dx: randomInt(random, -2 * w - 1, 2 * w + 1),
        dy: randomInt(random, -2 * h - 1, 2 * h + 1),
      }));
      const options = {
        fill: FILLS[trial % 4]!,
        cval: random() * 3,
        scale: uint8 ? 1 / 255 : random() * 2,
        threads: randomInt(random, 1, 4),
      };
      expectBitEqual(
        augment(images, [n, h, w, c], views, options),
        augmentReference(images, [n, h, w, c], views, options),
      );
    }
  });

  test('a CIFAR-sized batch with many threads equals one thread', () => {
    const random = rng(7);
    const images = Uint8Array.from({ length: 64 * 32 * 32 * 3 }, () => randomInt(random, 0, 255));
    const views: View[] = [{}, { flip: true }, { dx: 3, dy: -2 }, { flip: true, dx: -4, dy: 4 }];
    for (const fill of FILLS) {
      const one = augment(images, [64, 32, 32, 3], views, { fill, scale: 1 / 255, threads: 1 });
      const many = augment(images, [64, 32, 32, 3], views, { fill, scale: 1 / 255, threads: 8 });
      expectBitEqual(many, one);
      expectBitEqual(one, augmentReference(images, [64, 32, 32, 3], views, { fill, scale: 1 / 255 }));
    }
  });

  test('flip equals tf.image.flipLeftRight', () => {
    const random = rng(99);
    const images = Float32Array.from({ length: 3 * 5 * 7 * 3 }, () => random());
    const expected = tf.tidy(
      () => tf.image.flipLeftRight(tf.tensor4d(images, [3, 5, 7, 3])).dataSync() as Float32Array,
    );
    expectBitEqual(augment(images, [3, 5, 7, 3], [{ flip: true }]), expected);
  });
});

describe('augmentAsync', () => {
  test('gives the same result as augment', async () => {
    const random = rng(5);
    const images = Uint8Array.from({ length: 200 * 32 * 32 * 3 }, () => randomInt(random, 0, 255));
    const views: View[] = [{}, { flip: true }, { dx: 2 }, { dy: -2, flip: true }];
    const pending = augmentAsync(images, [200, 32, 32, 3], views, { scale: 1 / 255 });
    expect(pending).toBeInstanceOf(Promise);
    expectBitEqual(await pending, augment(images, [200, 32, 32, 3], views, { scale: 1 / 255 }));
  });

  test('many concurrent calls are all correct (inputs kept alive)', async () => {
    const random = rng(6);
    const jobs = Array.from({ length: 16 }, () => Float32Array.from({ length: 4 * 8 * 8 * 3 }, () => random()));
    const views: View[] = [{ flip: true, dx: 1 }, { dy: 3 }];
    const results = await Promise.all(
      jobs.map((images) => augmentAsync(images, [4, 8, 8, 3], views, { fill: 'reflect' })),
    );
    results.forEach((r, i) => expectBitEqual(r, augmentReference(jobs[i]!, [4, 8, 8, 3], views, { fill: 'reflect' })));
  });

  test('rejects bad arguments with the same errors as the sync call', async () => {
    await expect(augmentAsync(new Float32Array(3), [1, 1, 1, 1], [{}])).rejects.toThrow(RangeError);
  });
});
