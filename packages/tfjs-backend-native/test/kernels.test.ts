// Every native kernel against the cpu backend's, on random shapes and attributes.
// (Both backends here are cpu-based and initialise synchronously, so setBackend is not awaited.)
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// The tfjs-core bundle registers no gradients; tfjs-layers' bundle registers them all.
import '@tensorflow/tfjs-layers';
import {
  BATCH_NORM_GRAD,
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  BINARY_OPS,
  REDUCE_OPS,
  RELU_BIAS_GRAD,
  UNARY_OPS,
  backendInfo,
  ADAM_UPDATE,
  FUSED_CONV2D,
  useOnednn,
  useWinograd,
  batchNormTraining,
  fusedAdam,
  fusedConv2d,
  nativeKernels,
  sgemm,
} from '../lib';
import { addon } from '../lib/addon';
import { randomInt, rng } from './helpers';

const random = rng(20261128);

function randomTensor(shape: number[], lo = -2, hi = 2): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = lo + (hi - lo) * random();
  return tf.tensor(values, shape, 'float32');
}

/**
 * Relative error within 1e-4, measured against max(|expected|, 10% of the tensor's largest
 * magnitude): float32 sums summed in another order differ by a few ulps of their terms, which
 * is unbounded relative to a result that cancels to near zero. NaN and infinities must match.
 */
function expectClose(actual: tf.Tensor, expected: tf.Tensor, label: string): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  const a = actual.dataSync(),
    e = expected.dataSync();
  let scale = 0;
  for (let i = 0; i < e.length; i++) if (Number.isFinite(e[i]!)) scale = Math.max(scale, Math.abs(e[i]!));
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!,
      y = e[i]!;
    if (Number.isNaN(y) || !Number.isFinite(y)) {
      if (!Object.is(x, y) && !(Number.isNaN(x) && Number.isNaN(y)))
        throw new Error(`${label}: element ${i} is ${x}, expected ${y}`);
      continue;
    }
    if (Math.abs(x - y) > 1e-4 * Math.max(Math.abs(y), scale * 0.1, 1e-6)) {
      throw new Error(`${label}: element ${i} is ${x}, expected ${y} (scale ${scale})`);
    }
  }
}

/** Runs fn on both backends from the same input values; the native result must use the native kernel. */
function compare(label: string, inputs: tf.Tensor[], fn: (...xs: tf.Tensor[]) => tf.Tensor): void {
  const values = inputs.map((t) => ({ data: t.dataSync().slice(), shape: t.shape, dtype: t.dtype }));
  const run = (backend: string): tf.Tensor => {
    void tf.setBackend(backend);
    const xs = values.map((v) => tf.tensor(v.data, v.shape, v.dtype));
    const out = tf.tidy(() => fn(...xs));
    const copy = tf.tensor(out.dataSync().slice(), out.shape, out.dtype);
    tf.dispose([...xs, out]);
    return copy;
  };
  const expected = run('cpu');
  const actual = run('native');
  try {
    expectClose(actual, expected, label);
  } finally {
    tf.dispose([actual, expected]);
  }
}

const before = { tensors: 0 };
beforeAll(() => {
  void tf.setBackend('native');
  before.tensors = tf.memory().numTensors;
});
afterAll(() => {
  expect(tf.memory().numTensors).toBe(before.tensors);
});

describe('registration', () => {
  it('registers a native backend that overrides the listed kernels and inherits the rest', () => {
    expect(tf.findBackendFactory('native')).not.toBeNull();
    const native = tf.getKernelsForBackend('native').map((k) => k.kernelName);
    const cpu = tf.getKernelsForBackend('cpu').map((k) => k.kernelName);
    // Every cpu kernel, and the ones behind the fused batch norm and fused conv gradients.
    expect(new Set(native)).toEqual(
      new Set([
        ...cpu,
        BATCH_NORM_GRAD,
        BATCH_NORM_TRAINING,
        BATCH_NORM_TRAINING_GRAD,
        RELU_BIAS_GRAD,
        ADAM_UPDATE,
        FUSED_CONV2D,
      ]),
    );
    for (const name of Object.keys(nativeKernels)) expect(native).toContain(name);
    for (const name of [...BINARY_OPS, ...UNARY_OPS, ...REDUCE_OPS]) expect(nativeKernels[name]).toBeDefined();
  });

  it('reports the GEMM and thread count', () => {
    const info = backendInfo();
    expect(['openblas', 'portable']).toContain(info.gemm);
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });

  it('sgemm computes op(a) op(b) and rejects mismatched lengths', () => {
    const m = 5,
      n = 7,
      k = 3;
    const a = Float32Array.from({ length: m * k }, () => random() - 0.5);
    const b = Float32Array.from({ length: k * n }, () => random() - 0.5);
    const c = sgemm(a, b, new Float32Array(m * n), m, n, k);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
        expect(c[i * n + j]).toBeCloseTo(s, 5);
      }
    expect(() => sgemm(a, b, new Float32Array(m * n - 1), m, n, k)).toThrow(/lengths/);
  });
});

// The convolutions run on oneDNN when the addon is built with it (CI installs it) and on the
// built-in kernels otherwise; both paths are checked against the cpu backend.
const onednnBuilt = backendInfo().onednn !== '';
const convolutionPaths = [
  { path: 'built-in kernels', onednn: false },
  ...(onednnBuilt ? [{ path: `oneDNN ${backendInfo().onednn}`, onednn: true }] : []),
];
if (!onednnBuilt) console.log('convolutions on oneDNN: skipped (the addon was built without oneDNN)');

describe.each(convolutionPaths)('convolutions on the $path', ({ onednn }) => {
  let ran = 0;
  beforeAll(() => {
    expect(useOnednn(onednn)).toBe(onednn);
    useWinograd(false);
    ran = backendInfo().onednnConvolutions;
  });
  afterAll(() => {
    useWinograd(true);
    // Every case's forward and gradients went through oneDNN, or none did.
    const count = backendInfo().onednnConvolutions - ran;
    if (onednn) expect(count).toBeGreaterThan(50);
    else expect(count).toBe(0);
    useOnednn(onednnBuilt);
  });
  const cases: Array<{ x: number[]; f: number[]; strides: number | [number, number]; pad: 'same' | 'valid' | number }> =
    [
      { x: [2, 8, 8, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same' },
      { x: [3, 7, 9, 2], f: [3, 3, 2, 5], strides: 2, pad: 'same' },
      { x: [1, 9, 7, 4], f: [2, 3, 4, 3], strides: [2, 1], pad: 'valid' },
      { x: [2, 6, 6, 5], f: [1, 1, 5, 6], strides: 1, pad: 'valid' },
      { x: [2, 5, 5, 1], f: [5, 5, 1, 2], strides: 1, pad: 1 },
      { x: [1, 1, 1, 1], f: [1, 1, 1, 1], strides: 1, pad: 'same' },
      { x: [0, 4, 4, 2], f: [3, 3, 2, 2], strides: 1, pad: 'same' },
      // Few input channels and outChannels a multiple of 8: the direct convolution (interior
      // pixels in pairs, border pixels gathered, 32/16/8-channel slices).
      { x: [3, 9, 7, 3], f: [3, 3, 3, 8], strides: 1, pad: 'same' },
      { x: [2, 10, 11, 1], f: [3, 2, 1, 40], strides: [2, 1], pad: 'same' },
      { x: [2, 6, 7, 4], f: [3, 3, 4, 16], strides: 1, pad: 'valid' },
      { x: [1, 2, 2, 3], f: [3, 3, 3, 24], strides: 1, pad: 'same' },
      { x: [4, 8, 8, 3], f: [3, 3, 3, 32], strides: 2, pad: 'valid' },
      { x: [2, 5, 9, 3], f: [1, 3, 3, 64], strides: 1, pad: 'same' },
    ];
  for (let i = 0; i < 4; i++) {
    const c = randomInt(random, 1, 6);
    cases.push({
      x: [randomInt(random, 1, 4), randomInt(random, 3, 12), randomInt(random, 3, 12), c],
      f: [randomInt(random, 1, 3), randomInt(random, 1, 3), c, randomInt(random, 1, 7)],
      strides: [randomInt(random, 1, 3), randomInt(random, 1, 3)],
      pad: random() < 0.5 ? 'same' : 'valid',
    });
  }
  it.each(cases)('Conv2D, backprop input and filter, fused bias/relu: %j', ({ x, f, strides, pad }) => {
    const xs = randomTensor(x),
      fs = randomTensor(f);
    compare('conv2d', [xs, fs], (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad));
    const bias = randomTensor([f[3]!]);
    for (const activation of ['linear', 'relu', 'relu6', 'elu'] as const) {
      compare(`fused ${activation}`, [xs, fs, bias], (a, b, c) =>
        tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides, pad, bias: c, activation }),
      );
    }
    const y = tf.tidy(() => tf.conv2d(xs as tf.Tensor4D, fs as tf.Tensor4D, strides, pad));
    const dy = randomTensor(y.shape);
    compare('backprop input', [dy, fs], (d, b) =>
      tf.conv2dTranspose(d as tf.Tensor4D, b as tf.Tensor4D, x as [number, number, number, number], strides, pad),
    );
    compare('backprop filter', [xs, dy], (a, d) =>
      tf.grad((w: tf.Tensor) => tf.mul(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, strides, pad), d))(tf.zeros(f)),
    );
    tf.dispose([xs, fs, bias, y, dy]);
  });

  it('falls back to the cpu kernel for dilation and NCHW', () => {
    const xs = randomTensor([1, 9, 9, 2]),
      fs = randomTensor([3, 3, 2, 2]);
    compare('dilated', [xs, fs], (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same', 'NHWC', 2));
    tf.dispose([xs, fs]);
  });
});

// 3x3 stride-1 convolutions with 8+ input channels as Winograd's F(4x4, 3x3), forward and input
// gradient, on every instruction set the CPU has (the AVX2 build runs on AVX-512 machines too).
const winogradIsas = (['avx512f', 'avx2'] as const).filter((isa) => addon.setWinogradIsa(isa) === isa);
addon.setWinogradIsa('avx512f');
if (winogradIsas.length === 0) console.log("convolutions as Winograd's: skipped (no AVX2 or AVX-512 here)");

describe.each(winogradIsas)("convolutions as Winograd's F(4x4, 3x3) on %s", (isa) => {
  beforeAll(() => {
    expect(addon.setWinogradIsa(isa)).toBe(isa);
    expect(useWinograd(true)).toBe(true);
  });
  afterAll(() => {
    addon.setWinogradIsa('avx512f');
  });
  const cases: Array<{ x: number[]; f: number[]; pad: 'same' | 'valid' | number }> = [
    // The reference CNN's second layer; its input gradient (64 -> 32 channels) too.
    { x: [15, 12, 12, 32], f: [3, 3, 32, 64], pad: 'same' },
    { x: [32, 8, 8, 16], f: [3, 3, 16, 16], pad: 'same' },
    // Partial tiles, no padding, explicit padding, channels that are no multiple of the vector width.
    { x: [32, 7, 9, 8], f: [3, 3, 8, 32], pad: 'valid' },
    { x: [22, 10, 6, 13], f: [3, 3, 13, 16], pad: 2 },
    { x: [32, 5, 5, 32], f: [3, 3, 32, 48], pad: 'same' },
  ];
  it.each(cases)('Conv2D, fused bias/activation and backprop input: %j', ({ x, f, pad }) => {
    const before = backendInfo().winogradConvolutions;
    // Sums of about 1 (relu6 clips nothing much, so the tolerance, relative to the output's
    // scale, measures the sums' rounding rather than the clipped range's).
    const xs = randomTensor(x, -1, 1),
      fs = randomTensor(f, -0.2, 0.2);
    compare('conv2d', [xs, fs], (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad));
    const bias = randomTensor([f[3]!]);
    for (const activation of ['linear', 'relu', 'relu6'] as const) {
      compare(`fused ${activation}`, [xs, fs, bias], (a, b, c) =>
        tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 1, pad, bias: c, activation }),
      );
    }
    expect(backendInfo().winogradConvolutions - before).toBe(4);
    const y = tf.tidy(() => tf.conv2d(xs as tf.Tensor4D, fs as tf.Tensor4D, 1, pad));
    const dy = randomTensor(y.shape, -1, 1);
    const gradients = backendInfo().winogradConvolutions;
    compare('backprop input', [dy, fs], (d, b) =>
      tf.conv2dTranspose(d as tf.Tensor4D, b as tf.Tensor4D, x as [number, number, number, number], 1, pad),
    );
    // dx has f[2] channels: Winograd's when they are a multiple of the vector width.
    const width = isa === 'avx512f' ? 16 : 8;
    expect(backendInfo().winogradConvolutions - gradients).toBe(f[2]! % width === 0 ? 1 : 0);
    tf.dispose([xs, fs, bias, y, dy]);
  });

  it('leaves convolutions of fewer than 128 output tiles direct (the filter transform would cost more)', () => {
    const before = backendInfo().winogradConvolutions;
    const xs = randomTensor([7, 8, 8, 32], -1, 1),
      fs = randomTensor([3, 3, 32, 64], -0.2, 0.2);
    compare('conv2d', [xs, fs], (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'));
    expect(backendInfo().winogradConvolutions).toBe(before);
    tf.dispose([xs, fs]);
  });
});

describe('pooling', () => {
  const cases: Array<{
    x: number[];
    size: number | [number, number];
    strides: number | [number, number];
    pad: 'same' | 'valid';
  }> = [
    { x: [2, 8, 8, 3], size: 2, strides: 2, pad: 'valid' },
    { x: [1, 7, 9, 4], size: 3, strides: 2, pad: 'same' },
    { x: [3, 5, 6, 2], size: [2, 3], strides: [1, 2], pad: 'same' },
    { x: [1, 1, 1, 1], size: 1, strides: 1, pad: 'valid' },
    { x: [2, 6, 6, 1], size: 3, strides: 1, pad: 'same' },
    // Windows that do not overlap (the branch-free gradient), with uncovered or padded edges and gaps.
    { x: [2, 7, 9, 3], size: 2, strides: 2, pad: 'valid' },
    { x: [1, 7, 9, 5], size: 2, strides: 2, pad: 'same' },
    { x: [2, 8, 7, 2], size: 2, strides: [3, 2], pad: 'valid' },
  ];
  it.each(cases)('MaxPool, AvgPool and their gradients: %j', ({ x, size, strides, pad }) => {
    const xs = randomTensor(x);
    compare('maxPool', [xs], (a) => tf.maxPool(a as tf.Tensor4D, size, strides, pad));
    compare('avgPool', [xs], (a) => tf.avgPool(a as tf.Tensor4D, size, strides, pad));
    const y = tf.tidy(() => tf.maxPool(xs as tf.Tensor4D, size, strides, pad));
    const dy = randomTensor(y.shape);
    compare('maxPoolGrad', [xs, dy], (a, d) =>
      tf.grad((v: tf.Tensor) => tf.mul(tf.maxPool(v as tf.Tensor4D, size, strides, pad), d))(a),
    );
    compare('avgPoolGrad', [xs, dy], (a, d) =>
      tf.grad((v: tf.Tensor) => tf.mul(tf.avgPool(v as tf.Tensor4D, size, strides, pad), d))(a),
    );
    tf.dispose([xs, y, dy]);
  });

  it('max pooling picks the first of tied maxima and ignores NaN', () => {
    const xs = tf.tensor4d(
      [1, 1, 1, 1, NaN, 2, 2, 0, 5, 5, -Infinity, -Infinity, 3, NaN, -Infinity, NaN],
      [1, 4, 4, 1],
    );
    const dy = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    compare('ties', [xs, dy], (a, d) =>
      tf.grad((v: tf.Tensor) => tf.mul(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid'), d))(a),
    );
    compare('nan', [xs], (a) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'));
    tf.dispose([xs, dy]);
  });
});

describe.each(convolutionPaths)('matrix products on the $path', ({ onednn }) => {
  let ran = 0;
  beforeAll(() => {
    expect(useOnednn(onednn)).toBe(onednn);
    ran = backendInfo().onednnMatMuls;
  });
  afterAll(() => {
    // The large products (from about a million multiply-adds) went through oneDNN, or none did.
    const count = backendInfo().onednnMatMuls - ran;
    if (onednn) expect(count).toBeGreaterThanOrEqual(5);
    else expect(count).toBe(0);
    useOnednn(onednnBuilt);
  });
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[4, 6], [6, 5], false, false],
    [[6, 4], [6, 5], true, false],
    [[4, 6], [5, 6], false, true],
    [[6, 4], [5, 6], true, true],
    [[3, 4, 6], [3, 6, 2], false, false],
    [[3, 4, 6], [6, 2], false, false],
    [[4, 6], [3, 6, 2], false, false],
    [[2, 3, 4, 6], [1, 1, 6, 2], false, false],
    [[1, 1], [1, 1], false, false],
    [[0, 3], [3, 4], false, false],
    [[130, 257], [257, 70], false, false],
    // The reference CNN's dense layer and its two gradients, large enough for oneDNN's matmul.
    [[64, 1024], [1024, 32], false, false],
    [[64, 1024], [64, 32], true, false],
    [[64, 32], [1024, 32], false, true],
  ];
  it.each(cases)('BatchMatMul and _FusedMatMul %j x %j (transpose %s %s)', (as, bs, ta, tb) => {
    const a = randomTensor(as),
      b = randomTensor(bs);
    compare('matMul', [a, b], (x, y) => tf.matMul(x, y, ta, tb));
    if (as.length === 2 && bs.length === 2) {
      const n = tb ? bs[0]! : bs[1]!;
      const bias = randomTensor([n]);
      for (const activation of ['linear', 'relu', 'relu6', 'sigmoid'] as const) {
        compare(`fused ${activation}`, [a, b, bias], (x, y, z) =>
          tf.fused.matMul({
            a: x as tf.Tensor2D,
            b: y as tf.Tensor2D,
            transposeA: ta,
            transposeB: tb,
            bias: z,
            activation,
          }),
        );
      }
      bias.dispose();
    }
    tf.dispose([a, b]);
  });
});

describe('batch norm and softmax', () => {
  it.each([[[4, 5, 6, 3]], [[7, 8]], [[2, 1]], [[5]]])(
    'FusedBatchNorm %j with per-channel and scalar parameters',
    (shape) => {
      const c = shape[shape.length - 1]!;
      const x = randomTensor(shape),
        mean = randomTensor([c]),
        variance = randomTensor([c], 0.1, 2);
      const offset = randomTensor([c]),
        scale = randomTensor([c]);
      compare('batchNorm', [x, mean, variance, offset, scale], (a, m, v, o, s) => tf.batchNorm(a, m, v, o, s, 1e-3));
      compare('batchNorm without offset/scale', [x, mean, variance], (a, m, v) => tf.batchNorm(a, m, v));
      compare('batchNorm scalar mean', [x, variance], (a, v) =>
        tf.batchNorm(a, tf.scalar(0.5), tf.mean(v), undefined, tf.scalar(2)),
      );
      tf.dispose([x, mean, variance, offset, scale]);
    },
  );

  it.each([[[4, 10]], [[3, 2, 7]], [[1, 1]], [[5]]])('Softmax %j', (shape) => {
    const x = randomTensor(shape, -20, 20);
    compare('softmax', [x], (a) => tf.softmax(a));
    tf.dispose(x);
  });
});

describe('fused gradients (batch norm, mean)', () => {
  /** All of f's input gradients, flattened into one tensor for compare(). */
  const gradientsOf =
    (f: (...xs: tf.Tensor[]) => tf.Tensor) =>
    (...xs: tf.Tensor[]) =>
      tf.concat(
        tf
          .grads(f)(xs)
          .map((g) => tf.reshape(g, [-1])),
      );
  const weighted = (y: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(y, w));

  it.each([[[2, 3, 4, 5]], [[7, 3]], [[1, 1, 1, 1]], [[3, 2, 2, 130]]])(
    'FusedBatchNorm %j: the gradient of every input matches cpu',
    (shape) => {
      const c = shape[shape.length - 1]!;
      const x = randomTensor(shape),
        w = randomTensor(shape),
        mean = randomTensor([c]),
        variance = randomTensor([c], 0.1, 2);
      const offset = randomTensor([c]),
        scale = randomTensor([c]);
      compare(
        'batchNorm gradients',
        [x, mean, variance, offset, scale, w],
        gradientsOf((a, m, v, o, s, ww) => weighted(tf.batchNorm(a, m, v, o, s, 1e-3), ww)),
      );
      // (Without offset and scale, tfjs-core cannot differentiate batchNorm on any backend.)
      tf.dispose([x, w, mean, variance, offset, scale]);
    },
  );

  it('batch norm in training (moments then FusedBatchNorm, as tfjs-layers does) matches cpu, and runs the fused kernel', () => {
    const x = randomTensor([6, 5, 5, 8]),
      w = randomTensor([6, 5, 5, 8]),
      offset = randomTensor([8]),
      scale = randomTensor([8]);
    const training = (a: tf.Tensor, o: tf.Tensor, s: tf.Tensor, ww: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return weighted(tf.batchNorm(a, mean, variance, o, s, 1e-3), ww);
    };
    compare('training batch norm gradients', [x, offset, scale, w], gradientsOf(training));
    void tf.setBackend('native');
    const kernels: string[] = [];
    const started = tf.memory().numTensors;
    tf.dispose(tf.grads(training)([x, offset, scale, w]));
    expect(tf.memory().numTensors).toBe(started);
    return tf
      .profile(() => tf.grads(training)([x, offset, scale, w]))
      .then((info) => {
        tf.dispose(info.result as tf.Tensor[]);
        kernels.push(...info.kernels.map((k) => k.name));
        expect(kernels).toContain(BATCH_NORM_GRAD);
        tf.dispose([x, w, offset, scale]);
      });
  });

  it.each([
    [0, false],
    [[1, 2], false],
    [-1, true],
    [null, false],
    [[0, 2], true],
  ] as [number | number[] | null, boolean][])(
    'Mean over %j (keepDims %j): the gradient matches cpu exactly',
    (axis, keepDims) => {
      const x = randomTensor([3, 4, 5]);
      const probe = tf.mean(x, axis ?? undefined, keepDims);
      const w = randomTensor(probe.shape);
      probe.dispose();
      compare(
        'mean gradient',
        [x, w],
        gradientsOf((a, ww) => weighted(tf.mean(a, axis ?? undefined, keepDims), ww)),
      );
      tf.dispose([x, w]);
    },
  );

  it('the fused kernel refuses what it cannot take with a clear error', () => {
    void tf.setBackend('native');
    const ints = tf.tensor([1, 2, 3], [1, 3], 'int32');
    const c = tf.zeros([3]);
    expect(() =>
      tf.engine().runKernel('TtaFusedBatchNormGrad', { x: ints, dy: ints, mean: c, variance: c }, {}),
    ).toThrow(/needs float32/);
    tf.dispose([ints, c]);
  });
});

describe('fused layer ops (batchNormTraining, fusedConv2d)', () => {
  const gradientsOf =
    (f: (...xs: tf.Tensor[]) => tf.Tensor) =>
    (...xs: tf.Tensor[]) =>
      tf.concat(
        tf
          .grads(f)(xs)
          .map((g) => tf.reshape(g, [-1])),
      );
  const weighted = (y: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(y, w));
  /** The kernels fn runs on the native backend, checking that it leaks no tensor. */
  async function kernelsOf(fn: () => tf.TensorContainer): Promise<string[]> {
    void tf.setBackend('native');
    const started = tf.memory().numTensors;
    tf.dispose(fn());
    expect(tf.memory().numTensors).toBe(started);
    const info = await tf.profile(fn);
    tf.dispose(info.result as tf.Tensor[]);
    return info.kernels.map((k) => k.name);
  }

  it.each([[[6, 5, 5, 8]], [[128, 7]], [[1, 3]], [[7, 1]], [[2, 3, 130]], [[4]]])(
    'batchNormTraining %j: y, mean, variance and every gradient (also through mean and variance) match the cpu composition',
    async (shape) => {
      const c = shape[shape.length - 1]!;
      // An offset mean: the variance must not cancel catastrophically.
      const x = randomTensor(shape, 3, 7),
        w = randomTensor(shape),
        offset = randomTensor([c]),
        scale = randomTensor([c]);
      const wm = randomTensor([c]),
        wv = randomTensor([c]);
      const all = (a: tf.Tensor, o: tf.Tensor, s: tf.Tensor) => {
        const r = batchNormTraining(a, s, o, 1e-3);
        return tf.concat([tf.reshape(r.y, [-1]), r.mean, r.variance]);
      };
      compare('batchNormTraining', [x, offset, scale], all);
      compare(
        'batchNormTraining gradients',
        [x, offset, scale, w, wm, wv],
        gradientsOf((a, o, s, ww, m, v) => {
          const r = batchNormTraining(a, s, o, 1e-3);
          return tf.addN([weighted(r.y, ww), weighted(r.mean, m), weighted(r.variance, v)]);
        }),
      );
      // Without scale or offset.
      compare(
        'batchNormTraining plain',
        [x, w],
        gradientsOf((a, ww) => weighted(batchNormTraining(a).y, ww)),
      );
      const kernels = await kernelsOf(() =>
        tf.grads((a: tf.Tensor) => weighted(batchNormTraining(a, scale, offset).y, w))([x]),
      );
      expect(kernels).toEqual(expect.arrayContaining([BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD]));
      expect(kernels).not.toContain('Mean');
      tf.dispose([x, w, offset, scale, wm, wv]);
    },
  );

  it("batchNormTraining, fusedConv2d and the fused Adam take float32 tensors stored as integers (the cpu backend's int32 -> float32 Cast)", () => {
    void tf.setBackend('native');
    const optimizer = fusedAdam(0.5);
    const v = tf.tidy(() => tf.variable(tf.cast(tf.tensor1d([1, -2], 'int32'), 'float32')));
    tf.tidy(() => {
      const x = tf.cast(tf.tensor2d([1, 5, 2, 7, 4, 9], [3, 2], 'int32'), 'float32');
      expectClose(batchNormTraining(x).mean, tf.tensor1d([7 / 3, 7]), 'mean');
      const image = tf.cast(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1], 'int32'), 'float32');
      const filter = tf.ones([1, 1, 1, 8]);
      const dx = tf.grad((a: tf.Tensor) =>
        tf.sum(fusedConv2d({ x: a, filter, strides: 1, pad: 'same', activation: 'relu' })),
      )(image);
      expectClose(dx, tf.fill([1, 2, 2, 1], 8), 'conv gradient');
      optimizer.minimize(() => tf.sum(tf.square(v)));
      expectClose(v, tf.tensor1d([0.5, -1.5]), 'adam step');
    });
    optimizer.dispose();
    v.dispose();
  });

  it('batchNormTraining on another backend is the tfjs composition, and bad arguments are named', () => {
    void tf.setBackend('cpu');
    const x = randomTensor([5, 3]);
    const r = batchNormTraining(x);
    const m = tf.moments(x, [0]);
    expectClose(r.mean, m.mean, 'mean');
    expectClose(r.variance, m.variance, 'variance');
    tf.dispose([r.y, r.mean, r.variance, m.mean, m.variance]);
    void tf.setBackend('native');
    // tidy: the arguments built inside expect() are disposed with it.
    tf.tidy(() => {
      expect(() => batchNormTraining(tf.tensor([1, 2], [2], 'int32'))).toThrow(
        /Expected a non-empty float32 tensor of rank >= 1 for x but received a int32 tensor of shape \[2\]/,
      );
      expect(() => batchNormTraining(x, tf.zeros([4]))).toThrow(
        /Expected a float32 tensor of shape \[3\] or null for scale but received a float32 tensor of shape \[4\]/,
      );
      expect(() => batchNormTraining(x, null, null, 0)).toThrow(
        /Expected a positive finite number for varianceEpsilon but received 0/,
      );
      expect(() =>
        tf.engine().runKernel(BATCH_NORM_TRAINING, { x: tf.zeros([0, 3]) }, { varianceEpsilon: 1e-3 }),
      ).toThrow(/needs a non-empty float32 x/);
    });
    tf.dispose(x);
  });

  const convCases: Array<{
    x: number[];
    f: number[];
    strides: number | [number, number];
    pad: 'same' | 'valid';
    activation: 'relu' | 'linear';
    bias: boolean;
  }> = [
    { x: [4, 9, 9, 3], f: [3, 3, 3, 5], strides: 1, pad: 'same', activation: 'relu', bias: true },
    { x: [2, 8, 7, 4], f: [2, 3, 4, 6], strides: 2, pad: 'valid', activation: 'linear', bias: true },
    { x: [3, 6, 6, 2], f: [3, 3, 2, 4], strides: [2, 1], pad: 'same', activation: 'relu', bias: false },
    { x: [1, 1, 1, 1], f: [1, 1, 1, 1], strides: 1, pad: 'valid', activation: 'relu', bias: true },
  ];
  it.each(convCases)(
    'fusedConv2d %j: output and gradients match tf.fused.conv2d on cpu, as one kernel each way',
    async ({ x, f, strides, pad, activation, bias }) => {
      const xs = randomTensor(x),
        fs = randomTensor(f, -0.5, 0.5),
        bs = randomTensor([f[3]!], -0.5, 0.5);
      const probe = tf.tidy(() => tf.conv2d(xs as tf.Tensor4D, fs as tf.Tensor4D, strides, pad));
      const w = randomTensor(probe.shape);
      probe.dispose();
      const ours = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        fusedConv2d({ x: a, filter: b, bias: bias ? c : null, strides, pad, activation });
      const theirs = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.fused.conv2d({
          x: a as tf.Tensor4D,
          filter: b as tf.Tensor4D,
          bias: bias ? c : undefined,
          strides,
          pad,
          activation,
        });
      // Both backends run ours; the cpu one runs tfjs' own op, which is the reference.
      const values = [xs, fs, bs, w].map((t) => t.dataSync().slice());
      const run = (backend: string, op: typeof ours) => {
        void tf.setBackend(backend);
        const [a, b, c, ww] = [xs, fs, bs, w].map((t, i) => tf.tensor(values[i]!, t.shape));
        const out = tf.tidy(() => {
          const gradients = bias
            ? gradientsOf((p, q, r) => weighted(op(p, q, r), ww!))(a!, b!, c!)
            : gradientsOf((p, q) => weighted(op(p, q, c!), ww!))(a!, b!);
          return tf.concat([tf.reshape(op(a!, b!, c!), [-1]), gradients]);
        });
        const copy = tf.tensor(out.dataSync().slice(), out.shape);
        tf.dispose([a, b, c, ww, out]);
        return copy;
      };
      const expected = run('cpu', theirs),
        actual = run('native', ours);
      expectClose(actual, expected, 'fusedConv2d');
      tf.dispose([expected, actual]);
      const kernels = await kernelsOf(() =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => weighted(ours(a, b, bs), w))([xs, fs]),
      );
      expect(kernels.filter((k) => k === FUSED_CONV2D)).toHaveLength(1);
      expect(kernels).not.toContain('FusedConv2D');
      expect(kernels).not.toContain('Relu');
      expect(kernels).not.toContain('Step');
      if (activation === 'relu') expect(kernels).toContain(RELU_BIAS_GRAD);
      tf.dispose([xs, fs, bs, w]);
    },
  );

  it('the relu gradient keeps tfjs semantics for NaN and infinite values', () => {
    const y = tf.tensor2d([NaN, 0, -1, 2, Infinity, 3], [3, 2]);
    const dy = tf.tensor2d([1, Infinity, 5, NaN, 2, -Infinity], [3, 2]);
    void tf.setBackend('native');
    const [dyOut, dBias] = tf.engine().runKernel(RELU_BIAS_GRAD, { dy, y }, {}) as tf.Tensor[];
    void tf.setBackend('cpu');
    const expected = tf.tidy(() => tf.mul(dy, tf.step(y)));
    expectClose(dyOut!, expected, 'relu gradient');
    const expectedBias = tf.sum(expected, 0);
    expectClose(dBias!, expectedBias, 'bias gradient');
    tf.dispose([y, dy, dyOut!, dBias!, expected, expectedBias]);
  });

  it('fusedConv2d names bad arguments', () => {
    void tf.setBackend('native');
    tf.tidy(() => {
      const x = tf.zeros([1, 4, 4, 2]),
        filter = tf.zeros([3, 3, 2, 3]);
      expect(() => fusedConv2d({ x: tf.zeros([4, 4, 2]), filter, strides: 1, pad: 'same' })).toThrow(
        /Expected a float32 tensor of rank 4 \(NHWC\) for x/,
      );
      expect(() => fusedConv2d({ x, filter: tf.zeros([3, 3, 5, 3]), strides: 1, pad: 'same' })).toThrow(/for filter/);
      expect(() => fusedConv2d({ x, filter, bias: tf.zeros([2]), strides: 1, pad: 'same' })).toThrow(
        /shape \[3\] or null for bias/,
      );
      expect(() => fusedConv2d({ x, filter, strides: 0, pad: 'same' })).toThrow(/for strides but received 0/);
      expect(() => fusedConv2d({ x, filter, strides: 1, pad: 'full' as 'same' })).toThrow(/'same' or 'valid' for pad/);
      expect(() => fusedConv2d({ x, filter, strides: 1, pad: 'same', activation: 'elu' as 'relu' })).toThrow(
        /'linear' or 'relu' for activation/,
      );
    });
  });
});

describe('fused Adam', () => {
  /** Every variable and optimizer weight after `steps` Adam steps on a least-squares problem. */
  async function optimise(backend: string, make: () => tf.AdamOptimizer, steps: number): Promise<Float32Array[]> {
    void tf.setBackend(backend);
    const started = tf.memory().numTensors;
    const optimizer = make();
    const [w, b] = tf.tidy(() => [
      tf.variable(
        tf.tensor2d(
          Float32Array.from({ length: 200 * 30 }, (_, i) => Math.sin(i)),
          [200, 30],
        ),
      ),
      tf.variable(tf.zeros([30])),
    ]);
    const x = tf.tensor2d(
      Float32Array.from({ length: 8 * 200 }, (_, i) => Math.cos(i * 0.7)),
      [8, 200],
    );
    for (let i = 0; i < steps; i++) optimizer.minimize(() => tf.sum(tf.square(tf.add(tf.matMul(x, w), b))));
    const weights = await optimizer.getWeights();
    const result = [w, b, ...weights.map((n) => n.tensor)].map((t) => t.dataSync<'float32'>().slice());
    // getWeights makes the iteration count a new tensor; the moments are the optimizer's.
    weights[0]!.tensor.dispose();
    optimizer.dispose();
    tf.dispose([w, b, x]);
    expect(tf.memory().numTensors).toBe(started);
    return result;
  }

  it("matches tfjs' Adam step for step (variables, moments, iterations), as one kernel per variable", async () => {
    const expected = await optimise('cpu', () => tf.train.adam(0.01), 5);
    const actual = await optimise('native', () => fusedAdam(0.01), 5);
    expect(actual).toHaveLength(expected.length);
    tf.tidy(() => actual.forEach((a, i) => expectClose(tf.tensor(a), tf.tensor(expected[i]!), `weight ${i}`)));
    const onCpu = await optimise('cpu', () => fusedAdam(0.01), 5);
    onCpu.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(expected[i]!)));
    void tf.setBackend('native');
    expect(() => fusedAdam(0)).toThrow(
      /Expected a positive finite number for learningRate but received 0 of type number/,
    );
    expect(() => fusedAdam(0.1, 1)).toThrow(/Expected a number in \[0, 1\) for beta1 but received 1/);
    expect(() => fusedAdam(0.1, 0.9, Number.NaN)).toThrow(/for beta2 but received NaN/);
    expect(() => fusedAdam(0.1, 0.9, 0.99, -1)).toThrow(/for epsilon but received -1/);
    expect(() => fusedAdam('0.1' as unknown as number)).toThrow(/for learningRate but received '0.1' of type string/);
    const optimizer = fusedAdam(0.01, 0.8, 0.99, 1e-6);
    expect(optimizer).toBeInstanceOf(tf.AdamOptimizer);
    expect(optimizer.getClassName()).toBe('Adam');
    expect(optimizer.getConfig()).toEqual({ learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 });
    const v = tf.tidy(() => tf.variable(tf.ones([4])));
    const profile = await tf.profile(() => {
      optimizer.minimize(() => tf.sum(tf.square(v)));
    });
    expect(profile.kernels.filter((k) => k.name === ADAM_UPDATE)).toHaveLength(1);
    expect(profile.kernels.map((k) => k.name)).not.toContain('Sqrt');
    optimizer.dispose();
    v.dispose();
  });

  it('restores from tfjs Adam weights and continues as tfjs would', async () => {
    void tf.setBackend('native');
    const run = async (make: () => tf.AdamOptimizer) => {
      const v = tf.tidy(() => tf.variable(tf.tensor1d([1, -2, 3]), true, 'restore_probe'));
      const first = tf.train.adam(0.1);
      first.minimize(() => tf.sum(tf.square(v)));
      const second = make();
      const saved = await first.getWeights();
      await second.setWeights(saved);
      saved[0]!.tensor.dispose();
      second.minimize(() => tf.sum(tf.square(v)));
      const out = v.dataSync().slice();
      first.dispose();
      second.dispose();
      v.dispose();
      return tf.tensor(out);
    };
    const expected = await run(() => tf.train.adam(0.1)),
      actual = await run(() => fusedAdam(0.1));
    expectClose(actual, expected, 'restored');
    tf.dispose([expected, actual]);
  });
});

describe('elementwise', () => {
  const shapePairs: Array<[number[], number[]]> = [
    [
      [4, 5],
      [4, 5],
    ],
    [[4, 5], [5]],
    [
      [4, 5],
      [4, 1],
    ],
    [
      [4, 1],
      [1, 5],
    ],
    [[], [3, 2]],
    [[3, 2], []],
    [[2, 3, 4, 5], [5]],
    [
      [2, 1, 4, 1],
      [3, 1, 5],
    ],
    [[1], [1]],
    [[0, 3], [3]],
    [
      [2, 3, 1, 4, 1, 2, 1, 3],
      [1, 3, 3],
    ],
    [
      [64, 300],
      [64, 300],
    ],
  ];
  for (const name of BINARY_OPS) {
    it.each(shapePairs)(`${name} %j with %j`, (as, bs) => {
      const a = randomTensor(as),
        b = name === 'RealDiv' ? randomTensor(bs, 0.5, 2) : randomTensor(bs);
      const op = {
        Add: tf.add,
        Sub: tf.sub,
        Multiply: tf.mul,
        RealDiv: tf.div,
        Maximum: tf.maximum,
        Minimum: tf.minimum,
        SquaredDifference: tf.squaredDifference,
      }[name];
      compare(name, [a, b], (x, y) => op(x, y));
      tf.dispose([a, b]);
    });
  }

  it('binary ops propagate NaN like Math.max/min and fall back for int32', () => {
    const a = tf.tensor1d([NaN, 1, -Infinity, 3]),
      b = tf.tensor1d([1, NaN, 2, Infinity]);
    for (const op of [tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.squaredDifference])
      compare('nan', [a, b], (x, y) => op(x, y));
    const i = tf.tensor1d([1, 2, 3], 'int32'),
      j = tf.tensor1d([4, 5, 6], 'int32');
    compare('int32 add', [i, j], (x, y) => tf.add(x, y));
    compare('int32 max', [i, j], (x, y) => tf.maximum(x, y));
    tf.dispose([a, b, i, j]);
  });

  const unary: Record<string, (x: tf.Tensor) => tf.Tensor> = {
    Exp: tf.exp,
    Log: tf.log,
    Sqrt: tf.sqrt,
    Rsqrt: tf.rsqrt,
    Square: tf.square,
    Neg: tf.neg,
    Abs: tf.abs,
    Relu: tf.relu,
    Relu6: tf.relu6,
    Sigmoid: tf.sigmoid,
    Tanh: tf.tanh,
    Reciprocal: tf.reciprocal,
    Step: (x) => tf.step(x, 0.3),
    ClipByValue: (x) => tf.clipByValue(x, -0.5, 0.7),
  };
  it.each(UNARY_OPS.map((n) => [n]))('%s on random values, specials and empty tensors', (name) => {
    const fn = unary[name]!;
    const positive = ['Log', 'Sqrt', 'Rsqrt'].includes(name);
    const x = randomTensor([3, 70, 5], positive ? 0.01 : -8, 8);
    compare(name, [x], fn);
    const specials = tf.tensor1d([0, -0, NaN, Infinity, -Infinity, 1e-30, -1e30, 6, 7]);
    compare(`${name} specials`, [specials], fn);
    const empty = tf.zeros([0, 4]);
    compare(`${name} empty`, [empty], fn);
    tf.dispose([x, specials, empty]);
  });
});

describe('tile', () => {
  it.each([
    [
      [1, 1, 1, 4],
      [3, 5, 2, 1],
    ],
    [
      [2, 3],
      [2, 2],
    ],
    [[3], [4]],
    [
      [2, 1, 3],
      [1, 4, 1],
    ],
    [
      [2, 3],
      [0, 1],
    ],
    [
      [0, 2],
      [3, 1],
    ],
    [[1], [1]],
  ])('Tile %j by %j', (shape, reps) => {
    const x = randomTensor(shape);
    compare('tile', [x], (a) => tf.tile(a, reps));
    tf.dispose(x);
  });
});

describe('reductions', () => {
  const cases: Array<[number[], number | number[] | null, boolean]> = [
    [[4, 5, 6], 0, false],
    [[4, 5, 6], 1, true],
    [[4, 5, 6], 2, false],
    [[4, 5, 6], [0, 2], false],
    [[4, 5, 6], [0, 1], true],
    [[4, 5, 6], null, false],
    [[4, 1, 6], [1], false],
    [[1], 0, false],
    [[128, 32, 3, 3], [0, 1, 2], false],
    [[7], [], false],
    [[2, 3, 4, 5, 2], [1, 3], true],
    [[1000, 3], 0, false],
  ];
  for (const name of REDUCE_OPS) {
    it.each(cases)(`${name} of %j over %j (keepDims %s)`, (shape, axis, keepDims) => {
      const x = randomTensor(shape);
      const op = { Sum: tf.sum, Mean: tf.mean, Max: tf.max, Min: tf.min }[name];
      compare(name, [x], (a) => op(a, axis ?? undefined, keepDims));
      tf.dispose(x);
    });
  }

  it('Max and Min propagate NaN; empty tensors and int32 fall back', () => {
    const x = tf.tensor2d([1, NaN, 3, 4, 5, 6], [2, 3]);
    for (const op of [tf.max, tf.min, tf.sum, tf.mean]) compare('nan', [x], (a) => op(a, 1));
    const e = tf.zeros([0, 3]);
    for (const op of [tf.sum, tf.max]) compare('empty', [e], (a) => op(a, 1));
    const i = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    compare('int sum', [i], (a) => tf.sum(a, 0));
    tf.dispose([x, e, i]);
  });
});

describe('the addon re-checks what it is given', () => {
  const f = (n: number): Float32Array => new Float32Array(n);
  const convDims = Int32Array.from([1, 4, 4, 2, 3, 3, 5, 1, 1, 1, 1, 4, 4]);
  it('rejects lengths that do not match the geometry instead of reading or writing past them', () => {
    expect(() => addon.conv2d(f(31), f(90), null, 0, convDims, f(80), 2)).toThrow(/x has 31 elements, expected 32/);
    expect(() => addon.conv2d(f(32), f(90), f(4), 0, convDims, f(80), 2)).toThrow(/bias/);
    expect(() => addon.conv2d(f(32), f(90), null, 0, convDims, f(79), 2)).toThrow(/out/);
    expect(() => addon.conv2dBackpropInput(f(80), f(90), convDims, f(31), 2)).toThrow(/dx/);
    expect(() => addon.conv2dBackpropFilter(f(32), f(80), convDims, f(89), 2)).toThrow(/dw/);
    expect(() =>
      addon.conv2d(f(32), f(90), null, 0, Int32Array.from([1, 4, 4, 2, 3, 3, 5, 0, 1, 1, 1, 4, 4]), f(80), 2),
    ).toThrow(/out of range/);
    expect(() => addon.pool2d(f(10), 0, Int32Array.from([1, 4, 4, 2, 2, 2, 2, 2, 0, 0, 2, 2]), f(8), 2)).toThrow(
      /x has 10/,
    );
    expect(() => addon.matMul(f(6), f(6), null, 0, Int32Array.from([1, 1, 1, 2, 3, 3, 0, 0]), f(6), 2)).toThrow(
      /lengths/,
    );
    expect(() => addon.matMul(f(6), f(9), null, 0, Int32Array.from([2, 3, 1, 2, 3, 3, 0, 0]), f(12), 2)).toThrow(
      /batches/,
    );
    expect(() =>
      addon.binary(0, f(3), Int32Array.from([1]), f(4), Int32Array.from([1]), Int32Array.from([4]), f(4), 2),
    ).toThrow(/strides reach past/);
    expect(() =>
      addon.binary(9, f(1), Int32Array.from([0]), f(1), Int32Array.from([0]), Int32Array.from([1]), f(1), 2),
    ).toThrow(/op is out of range/);
    expect(() => addon.unary(0, f(3), f(4), 0, 0, 2)).toThrow(/out length/);
    expect(() => addon.reduce(0, f(6), Int32Array.from([2, 3]), Int32Array.from([1, 0]), f(2), 2)).toThrow(
      /out length/,
    );
    expect(() => addon.reduce(0, f(0), Int32Array.from([0, 3]), Int32Array.from([1, 0]), f(3), 2)).toThrow(/empty/);
    expect(() => addon.batchNorm(f(6), f(2), f(3), null, null, 1e-3, 3, f(6), 2)).toThrow(/mean/);
    expect(() => addon.batchNormGrad(f(6), f(6), f(2), f(3), null, 1e-3, 3, f(6), f(6), 2)).toThrow(
      /mean must hold `channels` values/,
    );
    expect(() => addon.batchNormGrad(f(6), f(5), f(3), f(3), null, 1e-3, 3, f(6), f(6), 2)).toThrow(/lengths/);
    expect(() => addon.batchNormGrad(f(6), f(6), f(3), f(3), f(3), 1e-3, 3, f(6), f(5), 2)).toThrow(/lengths/);
    expect(() => addon.batchNormTraining(f(6), f(3), null, 1e-3, 3, f(5), f(3), f(3), 2)).toThrow(/lengths/);
    expect(() => addon.batchNormTraining(f(6), f(2), null, 1e-3, 3, f(6), f(3), f(3), 2)).toThrow(/scale must hold/);
    expect(() => addon.batchNormTraining(f(0), null, null, 1e-3, 3, f(0), f(3), f(3), 2)).toThrow(/lengths/);
    expect(() =>
      addon.batchNormTrainingGrad(f(6), f(6), null, f(3), f(3), null, null, 1e-3, 3, f(6), f(3), f(2), 2),
    ).toThrow(/dOffset must hold/);
    expect(() =>
      addon.batchNormTrainingGrad(f(6), f(9), null, f(3), f(3), null, null, 1e-3, 3, f(6), f(3), f(3), 2),
    ).toThrow(/lengths/);
    expect(() => addon.reluBiasGrad(f(6), f(6), 3, f(6), f(2), 2)).toThrow(/lengths/);
    expect(() => addon.reluBiasGrad(f(6), f(5), 3, f(6), f(3), 2)).toThrow(/lengths/);
    expect(() =>
      addon.adamUpdate(f(4), f(4), f(4), f(3), 0.1, 0.9, 0.999, 1e-7, 0.1, 0.001, f(4), f(4), f(4), 2),
    ).toThrow(/value's length/);
    expect(() =>
      addon.adamUpdate(f(4), f(4), f(4), f(4), 0.1, 0.9, 0.999, 1e-7, 0.1, 0.001, f(4), f(5), f(4), 2),
    ).toThrow(/value's length/);
    expect(() => addon.softmax(f(6), 2, 4, f(6), 2)).toThrow(/rows x cols/);
    expect(() => addon.tile(f(3), Int32Array.from([3]), Int32Array.from([2]), f(5))).toThrow(/lengths/);
  });

  it('rejects the wrong typed arrays and in-place outputs that alias an input', () => {
    expect(() => addon.unary(0, new Float64Array(3) as unknown as Float32Array, f(3), 0, 0, 2)).toThrow(
      /x has the wrong typed array kind/,
    );
    expect(() =>
      addon.conv2d(f(32), f(90), null, 0, Float32Array.from(convDims) as unknown as Int32Array, f(80), 2),
    ).toThrow(/dims has the wrong typed array kind/);
    const shared = f(200);
    expect(() => addon.conv2d(shared.subarray(0, 32), f(90), null, 0, convDims, shared.subarray(10, 90), 2)).toThrow(
      /overlaps/,
    );
    expect(() =>
      addon.batchNormGrad(shared.subarray(0, 6), f(6), f(3), f(3), null, 1e-3, 3, shared.subarray(3, 9), f(6), 2),
    ).toThrow(/overlap/);
    expect(() =>
      addon.batchNormTraining(shared.subarray(0, 6), null, null, 1e-3, 3, f(6), shared.subarray(4, 7), f(3), 2),
    ).toThrow(/overlap/);
    expect(() => addon.reluBiasGrad(shared.subarray(0, 6), f(6), 3, shared.subarray(2, 8), f(3), 2)).toThrow(/overlap/);
    expect(() =>
      addon.adamUpdate(
        shared.subarray(0, 4),
        f(4),
        f(4),
        f(4),
        0.1,
        0.9,
        0.999,
        1e-7,
        0.1,
        0.001,
        shared.subarray(2, 6),
        f(4),
        f(4),
        2,
      ),
    ).toThrow(/overlap/);
    expect(() => addon.conv2d(f(32), shared.subarray(0, 90), null, 0, convDims, shared.subarray(50, 130), 2)).toThrow(
      /overlaps/,
    );
    expect(() =>
      addon.conv2dBackpropFilter(shared.subarray(0, 32), f(80), convDims, shared.subarray(20, 110), 2),
    ).toThrow(/overlaps/);
    expect(() =>
      addon.batchNormTraining(f(6), shared.subarray(0, 3), null, 1e-3, 3, shared.subarray(1, 7), f(3), f(3), 2),
    ).toThrow(/overlap/);
    expect(() =>
      addon.batchNormTrainingGrad(
        f(6),
        f(6),
        null,
        shared.subarray(0, 3),
        f(3),
        null,
        null,
        1e-3,
        3,
        f(6),
        shared.subarray(2, 5),
        f(3),
        2,
      ),
    ).toThrow(/overlap/);
  });
});
