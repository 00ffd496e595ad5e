// The load-time rewrite of graph models: the converter's Mul + AddV2 pairs (folded batch norms)
// become one FusedBatchNormV3 that computes the same values; everything it cannot prove safe stays.
import * as tf from '@tensorflow/tfjs-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isTtaError } from '@tta/util';
import { loadTfjsModel, readModelJson, selectBackend, tfjsClassifier } from '../src';
import { fuseChannelAffine } from '../src/graph-rewrite';
import { readWeights } from '../src/io';
import { writeLinearGraph } from '../src/testing';
import { kerasModelDir, testBackend } from './helpers';

let tmp: string;
beforeAll(async () => {
  await selectBackend(testBackend('native'));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tta-graph-rewrite-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Node = { name: string; op: string; input?: string[] };
const ops = (topology: unknown) => (topology as { node: Node[] }).node.map((n) => n.op);

function images(count: number, pixels: number): Float32Array {
  let state = 5;
  return Float32Array.from({ length: count * pixels }, () => (state = (state * 69069 + 1) >>> 0) / 2 ** 32);
}

async function predictBoth(dir: string, count: number): Promise<[Float32Array, Float32Array]> {
  const results: Float32Array[] = [];
  for (const optimizeGraph of [true, false]) {
    const model = await loadTfjsModel(dir, { optimizeGraph });
    try {
      const [h, w, c] = model.inputShape;
      results.push(await tfjsClassifier(model, { batchSize: 64 }).predict(images(count, h * w * c), count));
    } finally {
      model.dispose();
    }
  }
  return results as [Float32Array, Float32Array];
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** The one-pass batch norm and the two ops it replaces round alike on native; elsewhere within float noise. */
const tolerance = () => (tf.getBackend() === 'native' ? 0 : 1e-6);

test('a MatMul followed by Mul and AddV2 by per-class constants becomes one batch norm, predicting the same', async () => {
  const dir = path.join(tmp, 'affine');
  const graph = writeLinearGraph(dir, { height: 6, width: 6, channels: 3, classes: 7, softmax: true, affine: true });
  const json = readModelJson(path.join(dir, 'model.json'));
  const weights = readWeights(dir, path.join(dir, 'model.json'), json.weightsManifest);
  const rewrite = fuseChannelAffine(json.modelTopology, weights.specs, weights.data);
  expect(rewrite.fusedAffine).toBe(1);
  expect(ops(rewrite.topology)).not.toContain('Mul');
  expect(ops(rewrite.topology)).toContain('FusedBatchNormV3');
  expect(rewrite.data.byteLength).toBe(weights.data.byteLength + 2 * 7 * 4);

  const [fused, unfused] = await predictBoth(dir, 9);
  expect(maxDifference(fused, unfused)).toBeLessThanOrEqual(tolerance());
  expect(maxDifference(fused, graph.predict(images(9, 108), 9))).toBeLessThan(1e-5);
  expect(tf.memory().numTensors).toBe(0);
});

describe('what the rewrite leaves alone', () => {
  const shapes = (entries: [string, number[]][]) =>
    entries.map(([name, shape]) => ({ name, shape, dtype: 'float32' as const }));
  const base = (extra: Node[]): Node[] => [
    { name: 'x', op: 'Placeholder' },
    { name: 'W', op: 'Const' },
    { name: 's', op: 'Const' },
    { name: 'b', op: 'Const' },
    { name: 'y', op: 'MatMul', input: ['x', 'W'] },
    ...extra,
  ];
  const specs = shapes([
    ['W', [4, 3]],
    ['s', [3]],
    ['b', [3]],
    ['one', [1]],
  ]);
  const data = new ArrayBuffer(4 * (12 + 3 + 3 + 1));
  const fused = (node: Node[]) => fuseChannelAffine({ node }, specs, data).fusedAffine;

  test('the pattern itself, with either input order, is fused', () => {
    expect(
      fused(
        base([
          { name: 'm', op: 'Mul', input: ['y', 's'] },
          { name: 'a', op: 'AddV2', input: ['m', 'b'] },
        ]),
      ),
    ).toBe(1);
    expect(
      fused(
        base([
          { name: 'm', op: 'Mul', input: ['s', 'y:0'] },
          { name: 'a', op: 'AddV2', input: ['b', 'm'] },
        ]),
      ),
    ).toBe(1);
  });
  test('a product that something else also reads', () => {
    const node = base([
      { name: 'm', op: 'Mul', input: ['y', 's'] },
      { name: 'a', op: 'AddV2', input: ['m', 'b'] },
      { name: 'other', op: 'Relu', input: ['m'] },
    ]);
    expect(fused(node)).toBe(0);
  });
  test('a factor that is not one constant per channel, or an input whose channels are unknown', () => {
    expect(
      fused(
        base([
          { name: 'm', op: 'Mul', input: ['y', 'one'] },
          { name: 'a', op: 'AddV2', input: ['m', 'b'] },
        ]),
      ),
    ).toBe(0);
    expect(
      fused(
        base([
          { name: 'm', op: 'Mul', input: ['y', 's'] },
          { name: 'a', op: 'AddV2', input: ['m', 'y'] },
        ]),
      ),
    ).toBe(0);
    expect(
      fused(
        base([
          { name: 'm', op: 'Mul', input: ['x', 's'] },
          { name: 'a', op: 'AddV2', input: ['m', 'b'] },
        ]),
      ),
    ).toBe(0);
  });
  test('a transposed product whose output width is the other dimension', () => {
    const node = base([
      { name: 'm', op: 'Mul', input: ['y', 's'] },
      { name: 'a', op: 'AddV2', input: ['m', 'b'] },
    ]);
    (node[4] as Node & { attr?: unknown }).attr = { transpose_b: { b: true } };
    expect(fused(node)).toBe(0);
  });
  test('not a graph at all', () => {
    expect(fuseChannelAffine(undefined, specs, data).fusedAffine).toBe(0);
  });
});

test('loadTfjsModel rejects an optimizeGraph that is not a boolean', async () => {
  const error = await loadTfjsModel(path.join(tmp, 'affine'), { optimizeGraph: 'yes' as never }).catch(
    (e: unknown) => e,
  );
  expect(isTtaError(error, 'TTA_INVALID_ARGUMENT')).toBe(true);
  expect((error as Error).message).toMatch(/options\.optimizeGraph/);
});

const keras = kerasModelDir();
(keras ? test : test.skip)(
  "the Keras graph: its three folded batch norms become batch-norm ops, with Keras' probabilities unchanged",
  async () => {
    const dir = path.join(keras!, 'graph');
    const file = path.join(dir, 'model.json');
    const json = readModelJson(file);
    const weights = readWeights(dir, file, json.weightsManifest);
    const rewrite = fuseChannelAffine(json.modelTopology, weights.specs, weights.data);
    expect(rewrite.fusedAffine).toBe(3);
    expect(ops(rewrite.topology).filter((op) => op === 'Mul' || op === 'AddV2')).toEqual([]);
    const [fused, unfused] = await predictBoth(dir, 128);
    expect(maxDifference(fused, unfused)).toBeLessThanOrEqual(tolerance());
  },
);
