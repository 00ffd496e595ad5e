import {
  CAFFE_MEAN_BGR,
  IMAGENET_MEAN,
  IMAGENET_STD,
  augment,
  augmentAsync,
  preprocessingOptions,
  type Fill,
  type View,
} from '../lib/index';
import { augmentReference } from '../lib/reference';
import { expectBitEqual, randomInt, rng } from './helpers';

const f = Math.fround;

describe('preprocessing inside augment: per-channel scale and offset, reversed channels', () => {
  // One RGB pixel (255, 128, 0) and a second one (10, 20, 30), as uint8.
  const pixels = Uint8Array.from([255, 128, 0, 10, 20, 30]);
  const shape = [1, 1, 2, 3] as const;

  test('out = float32(float32(x * scale[k]) + offset[k]), indexed by output channel', () => {
    const out = augment(pixels, shape, [{}], { scale: [2, 0.5, 1 / 3], offset: [1, -1, 0.1] });
    const expected = [255, 128, 0, 10, 20, 30].map((x, j) => {
      const k = j % 3;
      return f(f(x * f([2, 0.5, 1 / 3][k]!)) + f([1, -1, 0.1][k]!));
    });
    expect(Array.from(out)).toEqual(expected);
    expect(Array.from(out)).toEqual([511, 63, f(f(0) + f(0.1)), 21, 9, f(f(30 * f(1 / 3)) + f(0.1))]);
  });

  test('reverseChannels reads input channel c-1-k before scale/offset by output channel', () => {
    const out = augment(pixels, shape, [{}], { reverseChannels: true, scale: [1, 10, 100], offset: [0, 0, 1] });
    expect(Array.from(out)).toEqual([0, 1280, 25501, 30, 200, 1001]);
  });

  test('one scale and the default offset are exactly the old single scale (an offset of 0 keeps -0)', () => {
    const values = Float32Array.from([-0, 0, -1.5, 3, -0, 7]);
    const out = augment(values, shape, [{ flip: true }], { scale: 2 });
    expect(Object.is(out[3], -0)).toBe(true);
    expect(Object.is(augment(values, shape, [{}], { offset: 0 })[0], -0)).toBe(true);
    expect(Object.is(augment(values, shape, [{}], { scale: -1 })[1], -0)).toBe(true);
    expect(Array.from(out)).toEqual([6, -0, 14, -0, 0, -3]);
    expect(Object.is(out[1], -0)).toBe(true);
  });

  test('cval is written as is: neither scaled nor offset nor reordered', () => {
    const out = augment(pixels, shape, [{ dx: 5 }], {
      fill: 'constant',
      cval: 7,
      scale: [2, 2, 2],
      offset: [1, 2, 3],
      reverseChannels: true,
    });
    expect(Array.from(out)).toEqual([7, 7, 7, 7, 7, 7]);
  });

  test('scale and offset accept typed arrays and work with flips and shifts', () => {
    const out = augment(pixels, shape, [{ flip: true }], {
      scale: Float64Array.from([1, 2, 3]),
      offset: Float32Array.from([-1, -2, -3]),
    });
    expect(Array.from(out)).toEqual([9, 38, 87, 254, 254, -3]);
  });
});

describe('preprocessingOptions presets, each checked on a hand-computed pixel', () => {
  const rgb = Uint8Array.from([255, 128, 0]);
  const run = (options: ReturnType<typeof preprocessingOptions>): number[] =>
    Array.from(augment(rgb, [1, 1, 1, 3], [{}], options));

  test("'unit': x / 255", () => {
    const options = preprocessingOptions('unit', 3);
    expect(options).toEqual({ scale: [1 / 255, 1 / 255, 1 / 255], offset: [0, 0, 0], reverseChannels: false });
    const out = run(options);
    expect(out).toEqual([1, f(128 * f(1 / 255)), 0]);
    expect(out[1]).toBeCloseTo(128 / 255, 7);
  });

  test("'symmetric': x / 127.5 - 1", () => {
    const out = run(preprocessingOptions('symmetric', 3));
    expect(out).toEqual([1, f(f(128 * f(1 / 127.5)) - 1), -1]);
    expect(out[1]).toBeCloseTo(128 / 127.5 - 1, 6); // 0.0039215...
  });

  test("'imagenet': x / 255, then (x - mean) / std", () => {
    const options = preprocessingOptions('imagenet', 3);
    expect(options.scale).toEqual([1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)]);
    expect(options.offset).toEqual([-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225]);
    const out = run(options);
    // By hand: (1 - 0.485) / 0.229 = 2.2489083, (128/255 - 0.456) / 0.224 = 0.2051820, (0 - 0.406) / 0.225 = -1.8044444
    expect(out[0]).toBeCloseTo(2.2489083, 5);
    expect(out[1]).toBeCloseTo(0.205182, 5);
    expect(out[2]).toBeCloseTo(-1.8044444, 5);
    expect(out).toEqual([0, 1, 2].map((k) => f(f(rgb[k]! * f(options.scale[k]!)) + f(options.offset[k]!))));
    expect([...IMAGENET_MEAN, ...IMAGENET_STD]).toEqual([0.485, 0.456, 0.406, 0.229, 0.224, 0.225]);
  });

  test("'caffe': RGB -> BGR, then minus the BGR means", () => {
    const options = preprocessingOptions('caffe', 3);
    expect(options).toEqual({ scale: [1, 1, 1], offset: [-103.939, -116.779, -123.68], reverseChannels: true });
    // BGR of (255, 128, 0) is (0, 128, 255): (0 - 103.939, 128 - 116.779, 255 - 123.68)
    expect(run(options)).toEqual([f(-103.939), f(128 - f(116.779)), f(255 - f(123.68))]);
    expect(run(options)[1]).toBeCloseTo(11.221, 4);
    expect([...CAFFE_MEAN_BGR]).toEqual([103.939, 116.779, 123.68]);
  });

  test("'raw': x unchanged, any channel count", () => {
    expect(preprocessingOptions('raw', 1)).toEqual({ scale: [1], offset: [0], reverseChannels: false });
    expect(run(preprocessingOptions('raw', 3))).toEqual([255, 128, 0]);
  });

  test('{ mean, std, scale?, reverseChannels? }: (x * scale - mean) / std per output channel', () => {
    const options = preprocessingOptions({ mean: [100, 110, 120], std: 2, scale: 1, reverseChannels: true }, 3);
    expect(options).toEqual({ scale: [0.5, 0.5, 0.5], offset: [-50, -55, -60], reverseChannels: true });
    // BGR (0, 128, 255): (0 - 100) / 2, (128 - 110) / 2, (255 - 120) / 2
    expect(run(options)).toEqual([-50, 9, 67.5]);
    // scale defaults to 1/255 (mean and std in [0, 1] units)
    const unit = preprocessingOptions({ mean: 0.5, std: 0.5 }, 3);
    expect(unit.scale).toEqual([2 / 255, 2 / 255, 2 / 255]);
    expect(run(unit)[0]).toBe(1);
    expect(run(unit)[2]).toBe(-1);
  });

  test('bad arguments name the parameter', () => {
    expect(() => preprocessingOptions('imagenet', 1)).toThrow(
      /Expected 3 for the 'imagenet' preprocessing \(RGB\) for channels but received 1/,
    );
    expect(() => preprocessingOptions('caffe', 4)).toThrow(RangeError);
    expect(() => preprocessingOptions('bgr' as never, 3)).toThrow(
      /Expected one of 'unit', 'symmetric', 'imagenet', 'caffe', 'raw' or \{ mean, std, scale\?, reverseChannels\? \} for preprocessing but received 'bgr'/,
    );
    expect(() => preprocessingOptions('unit', 0)).toThrow(/integer >= 1 for channels but received 0/);
    expect(() => preprocessingOptions({ mean: [1, 2], std: 1 }, 3)).toThrow(
      /3 values \(one per channel\) for preprocessing.mean but received Array of length 2/,
    );
    expect(() => preprocessingOptions({ mean: 0, std: [1, 0, 1] }, 3)).toThrow(
      /a non-zero number for preprocessing.std\[1\] but received 0/,
    );
    expect(() => preprocessingOptions({ mean: 0, std: 'x' as never }, 3)).toThrow(TypeError);
    expect(() => preprocessingOptions({ mean: [0, NaN, 0], std: 1 }, 3)).toThrow(/preprocessing.mean\[1\]/);
    expect(() => preprocessingOptions({ mean: 0, std: 1, scale: Infinity }, 3)).toThrow(/preprocessing.scale/);
    expect(() => preprocessingOptions({ mean: 0, std: 1, reverseChannels: 1 as never }, 3)).toThrow(
      /a boolean for preprocessing.reverseChannels but received 1 of type number/,
    );
  });
});

describe('preprocessing against the TS reference (bit-exact)', () => {
  test('random shapes, views, per-channel scales and offsets, reversed channels, thread counts', () => {
    const random = rng(4321);
    const fills: Fill[] = ['constant', 'nearest', 'reflect', 'wrap'];
    for (let trial = 0; trial < 60; trial++) {
      const n = randomInt(random, 1, 5);
      const h = randomInt(random, 1, 9);
      const w = randomInt(random, 1, 9);
      const c = randomInt(random, 1, 5);
      const uint8 = random() < 0.5;
      const len = n * h * w * c;
      const images = uint8
        ? Uint8Array.from({ length: len }, () => randomInt(random, 0, 255))
        : Float32Array.from({ length: len }, () => (random() < 0.05 ? -0 : random() * 4 - 2));
      const views: View[] = Array.from({ length: randomInt(random, 1, 6) }, () => ({
        flip: random() < 0.5,
        dx: randomInt(random, -w - 1, w + 1),
        dy: randomInt(random, -h - 1, h + 1),
      }));
      const perChannel = (spread: number) =>
        random() < 0.3
          ? random() * spread - spread / 2
          : Array.from({ length: c }, () => (random() < 0.2 ? 0 : random() * spread - spread / 2));
      const options = {
        fill: fills[trial % 4]!,
        cval: random() * 3,
        scale: perChannel(4),
        offset: random() < 0.2 ? undefined : perChannel(300),
        reverseChannels: random() < 0.5,
        threads: randomInt(random, 1, 4),
      };
      expectBitEqual(
        augment(images, [n, h, w, c], views, options),
        augmentReference(images, [n, h, w, c], views, options),
      );
    }
  });

  test('a large batch (image-major threading) with the imagenet and caffe presets, sync and async', async () => {
    const random = rng(11);
    const images = Uint8Array.from({ length: 300 * 16 * 16 * 3 }, () => randomInt(random, 0, 255));
    const views: View[] = [{}, { flip: true }, { dx: 3, dy: -2 }, { flip: true, dx: -4, dy: 4 }];
    for (const preset of ['imagenet', 'caffe'] as const) {
      const options = { ...preprocessingOptions(preset, 3), fill: 'reflect' as const };
      const expected = augmentReference(images, [300, 16, 16, 3], views, options);
      expectBitEqual(augment(images, [300, 16, 16, 3], views, { ...options, threads: 4 }), expected);
      expectBitEqual(await augmentAsync(images, [300, 16, 16, 3], views, options), expected);
    }
  });
});
