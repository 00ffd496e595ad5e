// Rewrites applied to a graph model's topology before tfjs builds it. The TensorFlow.js converter
// folds each inference-mode batch normalisation into Mul(x, s) then AddV2(., b) with constant
// per-channel s and b: two passes over the activations where one will do. tfjs runs graph ops one
// by one, so the two are merged here into one FusedBatchNormV3 with mean 0, variance 1 and epsilon
// 0, which computes (x - 0) * (s / sqrt(1 + 0)) + b = x * s + b: the same value, rounded the same way.
import type * as tf from '@tensorflow/tfjs-core';

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
  device?: string;
}

export interface GraphRewrite {
  topology: unknown;
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer;
  /** How many Mul + AddV2 pairs became one FusedBatchNormV3. */
  fusedAffine: number;
}

/** Node name of an input reference ('name', 'name:0'); control inputs ('^name') are not data. */
function source(input: string): string | undefined {
  if (input.startsWith('^')) return undefined;
  const colon = input.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(input.slice(colon + 1)) ? input.slice(0, colon) : input;
}

function boolAttr(node: GraphNode, name: string): boolean {
  return (node.attr?.[name] as { b?: boolean } | undefined)?.b === true;
}

/**
 * The channel count of a node's output when the graph says it for certain: convolutions (NHWC) and
 * matrix products with a constant weight, and the elementwise activations after them.
 */
function outputChannels(
  name: string,
  nodes: Map<string, GraphNode>,
  weightShapes: Map<string, number[]>,
  depth = 0,
): number | undefined {
  const node = nodes.get(name);
  if (!node || depth > 8) return undefined;
  const inputs = (node.input ?? []).map(source);
  const weight = inputs[1] === undefined ? undefined : weightShapes.get(inputs[1]);
  const format = (node.attr?.data_format as { s?: string } | undefined)?.s;
  // data_format is base64 in the converter's JSON: 'TkhXQw==' is NHWC.
  const nhwc = format === undefined || format === 'TkhXQw==' || format === 'NHWC';
  switch (node.op) {
    case 'Conv2D':
    case '_FusedConv2D':
      return nhwc && weight?.length === 4 ? weight[3] : undefined;
    case 'MatMul':
    case '_FusedMatMul':
      if (boolAttr(node, 'transpose_a') || weight?.length !== 2) return undefined;
      return boolAttr(node, 'transpose_b') ? weight[0] : weight[1];
    case 'Relu':
    case 'Relu6':
    case 'Elu':
    case 'Selu':
    case 'Sigmoid':
    case 'Tanh':
      return inputs[0] === undefined ? undefined : outputChannels(inputs[0], nodes, weightShapes, depth + 1);
    default:
      return undefined;
  }
}

/** Merges each Mul(x, const [C]) -> AddV2(., const [C]) pair over a C-channel x into one FusedBatchNormV3. */
export function fuseChannelAffine(
  topology: unknown,
  specs: readonly tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
): GraphRewrite {
  const graph = topology as { node?: GraphNode[] } | undefined;
  const unchanged = { topology, specs: specs.slice(), data, fusedAffine: 0 };
  if (!graph || !Array.isArray(graph.node)) return unchanged;
  const nodes = new Map(graph.node.map((n) => [n.name, n]));
  const weightShapes = new Map<string, number[]>();
  for (const spec of specs) if (spec.dtype === 'float32' && !spec.quantization) weightShapes.set(spec.name, spec.shape);
  const uses = new Map<string, number>();
  for (const node of graph.node) {
    for (const input of node.input ?? []) {
      const from = source(input);
      if (from !== undefined) uses.set(from, (uses.get(from) ?? 0) + 1);
    }
  }
  const isChannelConst = (name: string | undefined, channels: number): boolean => {
    const shape = name === undefined ? undefined : weightShapes.get(name);
    return nodes.get(name ?? '')?.op === 'Const' && shape?.length === 1 && shape[0] === channels;
  };

  const removed = new Set<string>();
  const replaced = new Map<string, GraphNode>();
  const added: { name: string; channels: number; value: number }[] = [];
  for (const add of graph.node) {
    if ((add.op !== 'AddV2' && add.op !== 'Add') || add.input?.length !== 2) continue;
    for (const [m, b] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const mulName = source(add.input[m]!);
      const offset = source(add.input[b]!);
      const mul = nodes.get(mulName ?? '');
      if (!mul || mul.op !== 'Mul' || mul.input?.length !== 2 || uses.get(mul.name) !== 1) continue;
      const [first, second] = mul.input.map(source);
      const [x, scale] = nodes.get(first ?? '')?.op === 'Const' ? [second, first] : [first, second];
      if (x === undefined) continue;
      const channels = outputChannels(x, nodes, weightShapes);
      if (channels === undefined || !isChannelConst(scale, channels) || !isChannelConst(offset, channels)) continue;
      const mean = `${add.name}/tta_fused/mean`;
      const variance = `${add.name}/tta_fused/variance`;
      if (nodes.has(mean) || nodes.has(variance)) continue;
      added.push({ name: mean, channels, value: 0 }, { name: variance, channels, value: 1 });
      removed.add(mul.name);
      replaced.set(add.name, {
        name: add.name,
        op: 'FusedBatchNormV3',
        input: [x, scale!, offset!, mean, variance],
        attr: { T: { type: 'DT_FLOAT' }, U: { type: 'DT_FLOAT' }, epsilon: { f: 0 }, is_training: { b: false } },
        ...(add.device === undefined ? {} : { device: add.device }),
      });
      break;
    }
  }
  if (replaced.size === 0) return unchanged;

  const constNode = (name: string, channels: number): GraphNode => ({
    name,
    op: 'Const',
    attr: {
      value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: String(channels) }] } } },
      dtype: { type: 'DT_FLOAT' },
    },
  });
  const node = [
    ...added.map((a) => constNode(a.name, a.channels)),
    ...graph.node.filter((n) => !removed.has(n.name)).map((n) => replaced.get(n.name) ?? n),
  ];
  const extraBytes = added.reduce((sum, a) => sum + a.channels * 4, 0);
  const merged = new Uint8Array(data.byteLength + extraBytes);
  merged.set(new Uint8Array(data), 0);
  let at = data.byteLength;
  for (const a of added) {
    // Copied as bytes: the existing weights may end at an offset that is not a multiple of 4.
    merged.set(new Uint8Array(new Float32Array(a.channels).fill(a.value).buffer), at);
    at += a.channels * 4;
  }
  return {
    topology: { ...graph, node },
    specs: [...specs, ...added.map((a) => ({ name: a.name, shape: [a.channels], dtype: 'float32' as const }))],
    data: merged.buffer,
    fusedAffine: replaced.size,
  };
}
