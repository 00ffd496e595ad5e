// Deferred convolution blocks (lib/fusion.ts, src/kernels/ConvBlock.cc): Conv2D -> FusedBatchNorm
// -> MaxPool fused into one kernel must give exactly the bits of the kernels run one by one,
// whatever is read, disposed or reshaped in between, on oneDNN, on the built-in convolution and as
// Winograd's F(4x4, 3x3) (src/kernels/Winograd.cc); all of them the cpu backend's values within
// tolerance.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { backendInfo, useFusion, useOnednn, useWinograd } from '../lib';
import { addon } from '../lib/addon';
import { randomInt, rng } from './helpers';

const random = rng(20261202);

function randomValues(shape: number[], lo = -2, hi = 2): Float32Array {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = lo + (hi - lo) * random();
  return values;
}

interface BlockCase {
  x: number[];
  f: number[];
  strides: number;
  pad: 'same' | 'valid';
  activation: 'linear' | 'relu' | 'relu6';
  bias: boolean;
  /** Batch norm parameters: per channel, one value broadcast, per channel without offset and scale, or none. */
  norm: 'channels' | 'scalar' | 'bare' | 'none';
  pool?: { size: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' };
}

/** The block's tensors on the current backend, from fixed values: [conv, normalised, pooled]. */
function runBlock(c: BlockCase, values: Record<string, Float32Array>): tf.Tensor[] {
  const outC = c.f[3]!;
  const perChannel = (name: string) =>
    c.norm === 'scalar' ? tf.scalar(values[name]![0]!) : tf.tensor1d(values[name]!.subarray(0, outC));
  return tf.tidy(() => {
    const conv = tf.fused.conv2d({
      x: tf.tensor4d(values.x!, c.x as [number, number, number, number]),
      filter: tf.tensor4d(values.f!, c.f as [number, number, number, number]),
      strides: c.strides,
      pad: c.pad,
      bias: c.bias ? tf.tensor1d(values.bias!) : undefined,
      activation: c.activation,
    });
    const normalised =
      c.norm === 'none'
        ? conv
        : tf.batchNorm(
            conv,
            perChannel('mean'),
            tf.abs(perChannel('variance')),
            c.norm === 'bare' ? undefined : perChannel('offset'),
            c.norm === 'bare' ? undefined : perChannel('scale'),
            1e-3,
          );
    const pooled = c.pool ? tf.maxPool(normalised as tf.Tensor4D, c.pool.size, c.pool.strides, c.pool.pad) : normalised;
    return [conv, normalised, pooled];
  });
}

function valuesFor(c: BlockCase): Record<string, Float32Array> {
  const outC = c.f[3]!;
  return {
    x: randomValues(c.x),
    f: randomValues(c.f),
    bias: randomValues([outC]),
    mean: randomValues([outC]),
    variance: randomValues([outC], 0.1, 2),
    offset: randomValues([outC]),
    scale: randomValues([outC]),
  };
}

/** Reads the tensors, pooled first (the conv and batch norm outputs are read after the block ran); disposes them. */
function read(tensors: tf.Tensor[]): Float32Array[] {
  const order = [2, 0, 1];
  const out: Float32Array[] = [];
  for (const i of order) out[i] = tensors[i]!.dataSync() as Float32Array;
  tf.dispose(tensors);
  return out;
}

/** Fused kernels a block case runs: one for the pooled output, one for the normalised output. */
function blocksIn(c: BlockCase): number {
  return (c.pool ? 1 : 0) + (c.norm !== 'none' ? 1 : 0);
}

/** The block's three tensors on the cpu backend, read; native is selected again after. */
function onCpu(c: BlockCase, values: Record<string, Float32Array>): Float32Array[] {
  void tf.setBackend('cpu');
  const cpu = read(runBlock(c, values));
  void tf.setBackend('native');
  return cpu;
}

function expectSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]))
      throw new Error(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

function expectClose(actual: Float32Array, expected: Float32Array, label: string): void {
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > 1e-4 * Math.max(Math.abs(expected[i]!), scale * 0.1, 1e-6))
      throw new Error(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/**
 * The reference CNN's shape in small: two Keras blocks (Conv2D 3x3 'same' relu, BatchNormalization
 * with statistics that are not the identity, MaxPooling2D), then a dense softmax layer of 4.
 */
function twoBlockCnn(size: number, filters: [number, number]): tfl.Sequential {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [size, size, 3],
        filters: filters[0],
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tfl.layers.batchNormalization(),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: filters[1], kernelSize: 3, padding: 'same', activation: 'relu' }),
      tfl.layers.batchNormalization(),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4, activation: 'softmax' }),
    ],
  });
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const weights = layer
      .getWeights()
      .map((w, i) => (i === 3 ? tf.randomUniform(w.shape, 0.5, 2) : tf.randomNormal(w.shape)));
    layer.setWeights(weights);
    tf.dispose(weights);
  }
  return model;
}

const onednnBuilt = backendInfo().onednn !== '';
const before = { tensors: 0 };
beforeAll(() => {
  void tf.setBackend('native');
  before.tensors = tf.memory().numTensors;
});
afterAll(() => {
  useFusion(true);
  useOnednn(onednnBuilt);
  useWinograd(true);
  addon.setWinogradIsa('avx512f');
  expect(tf.memory().numTensors).toBe(before.tensors);
});

const cases: BlockCase[] = [
  // The reference CNN's blocks (smaller batches): 2x2 pooling of a 'same' relu convolution.
  {
    x: [5, 12, 12, 3],
    f: [3, 3, 3, 32],
    strides: 1,
    pad: 'same',
    activation: 'relu',
    bias: true,
    norm: 'channels',
    pool: { size: 2, strides: 2, pad: 'valid' },
  },
  {
    x: [33, 8, 8, 32],
    f: [3, 3, 32, 64],
    strides: 1,
    pad: 'same',
    activation: 'relu',
    bias: true,
    norm: 'channels',
    pool: { size: 2, strides: 2, pad: 'valid' },
  },
  // Batch norm only, pooling only, scalar and bare parameters, overlapping and padded windows.
  { x: [3, 7, 9, 4], f: [3, 3, 4, 8], strides: 2, pad: 'same', activation: 'linear', bias: false, norm: 'scalar' },
  {
    x: [2, 9, 7, 2],
    f: [2, 3, 2, 5],
    strides: 1,
    pad: 'valid',
    activation: 'relu6',
    bias: true,
    norm: 'none',
    pool: { size: 3, strides: 1, pad: 'same' },
  },
  {
    x: [4, 11, 10, 3],
    f: [3, 3, 3, 16],
    strides: 1,
    pad: 'same',
    activation: 'relu',
    bias: false,
    norm: 'bare',
    pool: { size: [2, 3], strides: [2, 3], pad: 'valid' },
  },
];
for (let i = 0; i < 3; i++) {
  const c = randomInt(random, 1, 6);
  cases.push({
    x: [randomInt(random, 1, 40), randomInt(random, 4, 12), randomInt(random, 4, 12), c],
    f: [randomInt(random, 1, 3), randomInt(random, 1, 3), c, randomInt(random, 1, 20)],
    strides: randomInt(random, 1, 2),
    pad: random() < 0.5 ? 'same' : 'valid',
    activation: (['linear', 'relu', 'relu6'] as const)[randomInt(random, 0, 2)]!,
    bias: random() < 0.5,
    norm: (['channels', 'scalar', 'bare'] as const)[randomInt(random, 0, 2)]!,
    pool: { size: 2, strides: randomInt(random, 1, 2), pad: random() < 0.5 ? 'same' : 'valid' },
  });
}

const paths = [
  { path: 'built-in convolution', onednn: false, winograd: false },
  ...(onednnBuilt ? [{ path: `oneDNN ${backendInfo().onednn}`, onednn: true, winograd: false }] : []),
  // Where it applies (the reference CNN's second block); the others on oneDNN or built in.
  ...(backendInfo().winograd !== '' ? [{ path: "Winograd's F(4x4, 3x3)", onednn: onednnBuilt, winograd: true }] : []),
];

describe.each(paths)('convolution blocks on the $path', ({ onednn, winograd }) => {
  beforeAll(() => {
    useOnednn(onednn);
    useWinograd(winograd);
  });
  afterAll(() => {
    useWinograd(true);
  });

  it.each(cases)('fused equals unfused bit for bit, and cpu within tolerance: %j', (c) => {
    const values = valuesFor(c);
    useFusion(false);
    const unfused = read(runBlock(c, values));
    useFusion(true);
    const blocks = backendInfo().fusedBlocks;
    const fused = read(runBlock(c, values));
    // One fused kernel for the pooled (or normalised) output; the conv and batch norm outputs,
    // read afterwards, are computed from their own recipes.
    expect(backendInfo().fusedBlocks - blocks).toBe(blocksIn(c));
    for (let i = 0; i < 3; i++) expectSameBits(fused[i]!, unfused[i]!, `tensor ${i}`);
    const cpu = onCpu(c, values);
    for (let i = 0; i < 3; i++) expectClose(fused[i]!, cpu[i]!, `tensor ${i} vs cpu`);
  });
});

// Winograd's F(4x4, 3x3) in blocks and plain convolutions, on every instruction set this CPU has
// (AVX-512 and AVX2 builds both run on an AVX-512 machine): the cpu backend's values within
// tolerance, and layers it does not take (stride 2, output channels not a multiple of the vector
// width) on the direct convolution with its exact bits.
interface WinogradCase extends BlockCase {
  /** Whether F(4x4, 3x3) takes it (3x3, stride 1, 8+ input channels, outC a multiple of 16). */
  winograd: boolean;
}
/** What Keras' Conv2D(padding='same', activation='relu') followed by BatchNormalization gives. */
const sameRelu = { strides: 1, pad: 'same', activation: 'relu', bias: true, norm: 'channels' } as const;
const pool2 = { size: 2, strides: 2, pad: 'valid' } as const;
const winogradCases: WinogradCase[] = [
  // The reference CNN's second block.
  { ...cases[1]!, winograd: true },
  // Channels that are no multiple of the vector width, partial tiles (7 x 9 outputs), no pooling.
  {
    ...sameRelu,
    x: [22, 7, 9, 13],
    f: [3, 3, 13, 16],
    activation: 'linear',
    bias: false,
    norm: 'scalar',
    winograd: true,
  },
  {
    ...sameRelu,
    x: [22, 10, 11, 8],
    f: [3, 3, 8, 32],
    pad: 'valid',
    // (relu6 would clip sums of about 10 to 6, and the tolerance is relative to the output's
    // scale; test/kernels.test.ts checks relu6 on sums of about 1.)
    activation: 'linear',
    norm: 'bare',
    pool: { size: 2, strides: 2, pad: 'same' },
    winograd: true,
  },
  // 48 output channels: a register tile of 64 and the narrower one for the rest (AVX-512).
  { ...sameRelu, x: [32, 5, 6, 40], f: [3, 3, 40, 48], pool: { size: 3, strides: 1, pad: 'same' }, winograd: true },
  // Several chunks per thread and several blocks of tiles per chunk.
  { ...sameRelu, x: [40, 12, 12, 16], f: [3, 3, 16, 32], pool: pool2, winograd: true },
  { ...sameRelu, x: [8, 16, 16, 64], f: [3, 3, 64, 64], norm: 'none', pool: pool2, winograd: true },
  // Not taken: 20 output channels, stride 2, 64 tiles (the filter transform would cost more than it saves).
  { ...sameRelu, x: [2, 6, 6, 16], f: [3, 3, 16, 20], winograd: false },
  { ...sameRelu, x: [2, 9, 9, 16], f: [3, 3, 16, 32], strides: 2, winograd: false },
  { ...sameRelu, x: [16, 8, 8, 32], f: [3, 3, 32, 64], pool: pool2, winograd: false },
];

const isas = (['avx512f', 'avx2'] as const).filter((isa) => addon.setWinogradIsa(isa) === isa);
addon.setWinogradIsa('avx512f');

describe.each(isas.length > 0 ? isas : ['' as const])("Winograd's F(4x4, 3x3) on '%s'", (isa) => {
  beforeAll(() => {
    expect(addon.setWinogradIsa(isa)).toBe(isa);
    expect(backendInfo().winograd).toBe(isa);
  });
  afterAll(() => {
    addon.setWinogradIsa('avx512f');
  });

  it.each(winogradCases)('convolutions take it where they can, the cpu values within tolerance: %j', (c) => {
    const values = valuesFor(c);
    useWinograd(false);
    const direct = read(runBlock(c, values));
    useWinograd(true);
    const blocks = backendInfo().fusedBlocks;
    const convolutions = backendInfo().winogradConvolutions;
    const fused = read(runBlock(c, values));
    const ran = backendInfo().fusedBlocks - blocks;
    expect(ran).toBe(blocksIn(c));
    // The blocks, and the convolution output (tensor 0) read on its own.
    expect(backendInfo().winogradConvolutions - convolutions).toBe(c.winograd && isa !== '' ? ran + 1 : 0);
    const cpu = onCpu(c, values);
    for (let i = 0; i < 3; i++) {
      if (!c.winograd || isa === '') expectSameBits(fused[i]!, direct[i]!, `tensor ${i}`);
      expectClose(fused[i]!, cpu[i]!, `tensor ${i} vs cpu`);
    }
  });

  it("runs a Keras model's second block, the direct convolution's outputs within tolerance", () => {
    const model = twoBlockCnn(12, [16, 32]);
    const x = tf.tensor4d(randomValues([32, 12, 12, 3]), [32, 12, 12, 3]);
    useWinograd(false);
    const expected = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()) as Float32Array;
    useWinograd(true);
    const convolutions = backendInfo().winogradConvolutions;
    const tensors = tf.memory().numTensors;
    const actual = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()) as Float32Array;
    expect(backendInfo().winogradConvolutions - convolutions).toBe(isa === '' ? 0 : 1);
    expect(tf.memory().numTensors).toBe(tensors);
    expectClose(actual, expected, 'model');
    x.dispose();
    model.dispose();
  });
});

describe('deferred tensors', () => {
  const block: BlockCase = cases[0]!;

  it('keep their inputs until they run, even when those are disposed and their memory is wanted again', () => {
    // An input large enough to come from the buffer pool, made by a kernel (so the pool owns it).
    const shape: [number, number, number, number] = [8, 32, 32, 3];
    const values = valuesFor({ ...block, x: shape });
    const run = (): tf.Tensor[] => {
      const x = tf.tidy(() => tf.mul(tf.tensor4d(values.x!, shape), 1));
      const out = tf.tidy(() => {
        const conv = tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: tf.tensor4d(values.f!, block.f as [number, number, number, number]),
          pad: 'same',
          strides: 1,
          bias: tf.tensor1d(values.bias!),
          activation: 'relu',
        });
        const normalised = tf.batchNorm(conv, tf.tensor1d(values.mean!), tf.tensor1d(values.variance!));
        return [conv, tf.maxPool(normalised as tf.Tensor4D, 2, 2, 'valid')];
      });
      x.dispose();
      return out;
    };
    useFusion(false);
    const expected = run().map((t) => {
      const v = t.dataSync() as Float32Array;
      t.dispose();
      return v;
    });
    useFusion(true);
    const [conv, pooled] = run();
    // Kernel outputs of the input's length: the pool would hand them its buffer (and they would
    // overwrite it) if the deferred tensors did not hold it.
    const churn = tf.tidy(() => [tf.add(tf.fill(shape, 7), 1), tf.add(tf.fill(shape, 7), 1)]);
    expectSameBits(pooled!.dataSync() as Float32Array, expected[1]!, 'pooled');
    const churnAgain = tf.tidy(() => [tf.add(tf.fill(shape, 5), 1), tf.add(tf.fill(shape, 5), 1)]);
    expectSameBits(conv!.dataSync() as Float32Array, expected[0]!, 'conv');
    tf.dispose([conv!, pooled!, ...churn, ...churnAgain]);
  });

  it('that are disposed unread are never computed', () => {
    const values = valuesFor(block);
    const blocks = backendInfo().fusedBlocks;
    const convolutions = backendInfo().onednnConvolutions;
    const tensors = tf.memory().numTensors;
    tf.dispose(runBlock(block, values));
    expect(backendInfo().fusedBlocks).toBe(blocks);
    expect(backendInfo().onednnConvolutions).toBe(convolutions);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('reshaped to other channels are not fused as the convolution they hold', () => {
    const values = valuesFor(block);
    const run = () =>
      tf.tidy(() => {
        const conv = tf.fused.conv2d({
          x: tf.tensor4d(values.x!, block.x as [number, number, number, number]),
          filter: tf.tensor4d(values.f!, block.f as [number, number, number, number]),
          pad: 'same',
          strides: 1,
          activation: 'relu',
        });
        // [5, 12, 12, 32] viewed as [5, 12, 24, 16]: a batch norm over 16 channels.
        const viewed = tf.reshape(conv, [5, 12, 24, 16]);
        return tf.maxPool(tf.batchNorm(viewed, tf.ones([16]), tf.fill([16], 2)) as tf.Tensor4D, 2, 2, 'valid');
      });
    useFusion(false);
    const expected = run();
    useFusion(true);
    const blocks = backendInfo().fusedBlocks;
    const actual = run();
    expect(backendInfo().fusedBlocks).toBe(blocks);
    expectSameBits(actual.dataSync() as Float32Array, expected.dataSync() as Float32Array, 'reshaped');
    tf.dispose([actual, expected]);
  });

  it("fuse a Keras model's Conv2D -> BatchNormalization -> MaxPooling2D layers at predict, with the same outputs", () => {
    const model = twoBlockCnn(10, [8, 16]);
    const x = tf.tensor4d(randomValues([6, 10, 10, 3]), [6, 10, 10, 3]);
    useFusion(false);
    const expected = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    useFusion(true);
    const blocks = backendInfo().fusedBlocks;
    const tensors = tf.memory().numTensors;
    const actual = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    expect(backendInfo().fusedBlocks - blocks).toBe(2);
    expect(tf.memory().numTensors).toBe(tensors);
    expectSameBits(actual as Float32Array, expected as Float32Array, 'model');
    x.dispose();
    model.dispose();
  });

  it('useFusion takes a boolean', () => {
    expect(() => useFusion('yes' as unknown as boolean)).toThrow(/Expected a boolean for enabled/);
    expect(useFusion(false)).toBe(false);
    expect(backendInfo().fusionEnabled).toBe(false);
    expect(useFusion(true)).toBe(true);
  });
});

describe('convBlock', () => {
  it("packs each call's filter afresh (its chunks share one packing; the next call may bring new weights in the same array)", () => {
    const [n, h, c, outC] = [16, 12, 3, 16];
    const x = randomValues([n, h, h, c]);
    const filter = randomValues([3, 3, c, outC]);
    const convDims = Int32Array.from([n, h, h, c, 3, 3, outC, 1, 1, 1, 1, h, h]);
    const poolDims = Int32Array.from([n, h, h, outC, 2, 2, 2, 2, 0, 0, h / 2, h / 2]);
    const expected = (): Float32Array => {
      const conv = new Float32Array(n * h * h * outC);
      addon.conv2d(x, filter, null, 1, convDims, conv, 2);
      const pooled = new Float32Array(conv.length / 4);
      addon.pool2d(conv, 0, poolDims, pooled, 2);
      return pooled;
    };
    for (const onednn of onednnBuilt ? [true, false] : [false]) {
      useOnednn(onednn);
      for (let call = 0; call < 3; call++) {
        // The same Float32Array (so the same address) with other weights each call.
        filter.set(randomValues([filter.length]));
        const fused = new Float32Array(n * (h / 2) * (h / 2) * outC);
        addon.convBlock(x, filter, null, 1, convDims, null, null, null, null, 0, poolDims, fused, 2);
        expectSameBits(fused, expected(), `call ${call}`);
      }
    }
    useOnednn(onednnBuilt);
  });

  it("transforms each call's filter afresh for Winograd (the same array may bring new weights)", () => {
    const [n, h, c, outC] = [32, 8, 16, 32];
    const x = randomValues([n, h, h, c]);
    const filter = randomValues([3, 3, c, outC]);
    const convDims = Int32Array.from([n, h, h, c, 3, 3, outC, 1, 1, 1, 1, h, h]);
    const poolDims = Int32Array.from([n, h, h, outC, 2, 2, 2, 2, 0, 0, h / 2, h / 2]);
    for (let call = 0; call < 3; call++) {
      filter.set(randomValues([filter.length]));
      const direct = new Float32Array(n * (h / 2) * (h / 2) * outC);
      const winograd = new Float32Array(direct.length);
      useWinograd(false);
      expect(addon.convBlock(x, filter, null, 1, convDims, null, null, null, null, 0, poolDims, direct, 2)).toBe(false);
      useWinograd(true);
      const used = addon.convBlock(x, filter, null, 1, convDims, null, null, null, null, 0, poolDims, winograd, 2);
      expect(used).toBe(backendInfo().winograd !== '');
      expectClose(winograd, direct, `call ${call}`);
    }
  });
});

describe('convBlock re-checks what it is given', () => {
  const f = (n: number): Float32Array => new Float32Array(n);
  const convDims = Int32Array.from([1, 4, 4, 2, 3, 3, 5, 1, 1, 1, 1, 4, 4]);
  const poolDims = Int32Array.from([1, 4, 4, 5, 2, 2, 2, 2, 0, 0, 2, 2]);
  /** convBlock on a fitting call (no bias or batch norm, 2x2 pooling) but for what `change` replaces. */
  const call = (change: Partial<Record<'x' | 'mean' | 'variance' | 'poolDims' | 'out', unknown>>) => () => {
    const a = { x: f(32), mean: null, variance: null, poolDims, out: f(20), ...change };
    const [x, mean, variance, pool, out] = [a.x, a.mean, a.variance, a.poolDims, a.out] as [
      Float32Array,
      Float32Array | null,
      Float32Array | null,
      Int32Array,
      Float32Array,
    ];
    addon.convBlock(x, f(90), null, 1, convDims, mean, variance, null, null, 1e-3, pool, out, 2);
  };
  it('rejects lengths, parameters and pooling that do not fit the convolution', () => {
    expect(call({ x: f(31) })).toThrow(/x has 31 elements, expected 32/);
    expect(call({ out: f(21) })).toThrow(/out has 21 elements, expected 20/);
    expect(call({ mean: f(5) })).toThrow(/mean and variance together/);
    expect(call({ mean: f(4), variance: f(5) })).toThrow(/mean must hold 1 or `channels` values/);
    expect(call({ poolDims: Int32Array.from([1, 4, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2]), out: f(16) })).toThrow(
      /pool input is not the convolution's output/,
    );
    const shared = f(200);
    expect(call({ x: shared.subarray(0, 32), out: shared.subarray(10, 30) })).toThrow(/overlaps/);
    expect(() => addon.setWinograd(1 as unknown as boolean)).toThrow(/setWinograd expects one boolean/);
    expect(() => useWinograd('yes' as unknown as boolean)).toThrow(/Expected a boolean for enabled/);
    expect(() => addon.setWinogradIsa('sse' as '')).toThrow(/expects 'avx512f', 'avx2' or ''/);
  });
});
