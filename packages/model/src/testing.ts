// Fixtures for tests of code that loads TensorFlow.js models: a graph model written by hand,
// as the TensorFlow.js converter writes one, whose predictions are known exactly.
// Exported as @tta/model/testing (not part of the main entry point).
import fs from 'node:fs';
import path from 'node:path';

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
    /**
     * Follow the MatMul with Mul(., scale) and AddV2(., offset), constant per class: a batch
     * normalisation as the converter folds one.
     */
    affine?: boolean;
  },
): LinearGraph {
  const features = o.height * o.width * o.channels;
  let state = o.seed ?? 7;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const weights = Float32Array.from({ length: features * o.classes }, () => (random() - 0.5) * 0.2);
  const scale = Float32Array.from({ length: o.classes }, () => 0.5 + random());
  const offset = Float32Array.from({ length: o.classes }, () => random() - 0.5);
  const last = o.affine ? 'affine' : 'logits';
  const dims = (values: number[]) => ({ dim: values.map((size) => ({ size: String(size) })) });
  const input = o.dynamic ? [-1, -1, -1, o.channels] : [-1, o.height, o.width, o.channels];
  const float = { type: 'DT_FLOAT' };
  const vector = (name: string) => ({
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims([o.classes]) } }, dtype: float },
  });
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
    ...(o.affine
      ? [
          vector('affine_scale'),
          vector('affine_offset'),
          { name: 'scaled', op: 'Mul', input: ['logits', 'affine_scale'], attr: { T: float } },
          { name: 'affine', op: 'AddV2', input: ['scaled', 'affine_offset'], attr: { T: float } },
        ]
      : []),
    ...(o.softmax ? [{ name: 'probs', op: 'Softmax', input: [last], attr: { T: float } }] : []),
    { name: 'Identity', op: 'Identity', input: [o.softmax ? 'probs' : last], attr: { T: float } },
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
          ...(o.affine
            ? [
                { name: 'affine_scale', shape: [o.classes], dtype: 'float32' },
                { name: 'affine_offset', shape: [o.classes], dtype: 'float32' },
              ]
            : []),
        ],
      },
    ],
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  const shape = new Int32Array([-1, features]);
  fs.writeFileSync(
    path.join(dir, 'group1-shard1of1.bin'),
    Buffer.concat([
      Buffer.from(weights.buffer),
      Buffer.from(shape.buffer),
      ...(o.affine ? [Buffer.from(scale.buffer), Buffer.from(offset.buffer)] : []),
    ]),
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
        if (o.affine) for (let k = 0; k < o.classes; k++) logits[k] = logits[k]! * scale[k]! + offset[k]!;
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
