// A user's own TensorFlow.js model, in either format, read from disk with plain fs (no
// tfjs-node), and the Classifier the TTA engine runs it through. The format is told apart
// by model.json's `format`; the input size and the class count come from the model.
import * as tf from '@tensorflow/tfjs-core';
import * as tfc from '@tensorflow/tfjs-converter';
import * as tfl from '@tensorflow/tfjs-layers';
import fs from 'node:fs';
import path from 'node:path';
import type { Classifier, Preprocessing } from '@tta/core';
import { described, invalidParameterError, isPlainObject, outOfRangeError } from '@tta/util';
import { loadModel, ModelFileError, readModelJson, readWeights, type ModelFormat, type ModelMetadata } from './io';
import { fuseChannelAffine } from './graph-rewrite';

export type AnyModel = tfl.LayersModel | tfc.GraphModel;

/** A loaded model with what the engine needs to know about it. */
export interface TfjsModel {
  format: ModelFormat;
  /** The model.json it came from. */
  file: string;
  model: AnyModel;
  /** [height, width, channels] of one input image. */
  inputShape: [number, number, number];
  numClasses: number;
  /** tta's own metadata, for models tta trained. */
  metadata: ModelMetadata | undefined;
  dispose(): void;
}

export interface LoadTfjsModelOptions {
  /**
   * [height, width] for a model whose input size is not fixed (a fully convolutional graph);
   * for a fixed-size model it must match.
   */
  imageSize?: readonly [number, number];
  /**
   * Merge the converter's Mul + AddV2 pairs (folded batch normalisations) into one batch-norm op
   * each, which computes the same values in one pass over the activations. Default true.
   */
  optimizeGraph?: boolean;
}

/** The model.json a --model argument names: the file itself, or model.json in a folder. */
export function modelJsonPath(location: string): string {
  if (typeof location !== 'string' || location === '')
    throw invalidParameterError('model', 'a folder or a model.json path', location);
  const resolved = path.resolve(location);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(resolved);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) return path.join(resolved, 'model.json');
  if (stat === undefined && !resolved.endsWith('.json')) return path.join(resolved, 'model.json');
  return resolved;
}

function knownDim(d: unknown): number | undefined {
  const n = typeof d === 'string' ? Number(d) : d;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** [batch, h, w, c] of a model input, with a size given for dynamic spatial dimensions. */
function imageInputShape(
  file: string,
  shape: readonly (number | null | undefined)[] | undefined,
  imageSize: readonly [number, number] | undefined,
): [number, number, number] {
  if (shape === undefined || shape.length !== 4 || knownDim(shape[3]) === undefined) {
    throw new ModelFileError(
      `${file}: the model's input is ${shape ? `[${shape.map((d) => d ?? '?').join(', ')}]` : 'unknown'}, not NHWC images [batch, height, width, channels]`,
      file,
    );
  }
  const h = knownDim(shape[1]);
  const w = knownDim(shape[2]);
  const c = knownDim(shape[3])!;
  if (imageSize !== undefined) {
    if ((h !== undefined && h !== imageSize[0]) || (w !== undefined && w !== imageSize[1])) {
      throw new ModelFileError(
        `${file}: the model takes ${h}x${w} images, not the ${imageSize[0]}x${imageSize[1]} asked for`,
        file,
      );
    }
    return [imageSize[0], imageSize[1], c];
  }
  if (h === undefined || w === undefined) {
    throw new ModelFileError(`${file}: the model accepts images of any size; say which (--image-size H,W)`, file);
  }
  return [h, w, c];
}

function graphSignatureDims(json: tf.io.ModelJSON, kind: 'inputs' | 'outputs'): (number | null)[] | undefined {
  const signature = (
    json as { signature?: Record<string, Record<string, { tensorShape?: { dim?: { size?: string }[] } }>> }
  ).signature?.[kind];
  const first = signature ? Object.values(signature)[0] : undefined;
  return first?.tensorShape?.dim?.map((d) => knownDim(d.size) ?? null);
}

async function loadGraph(file: string, json: tf.io.ModelJSON, optimize: boolean): Promise<tfc.GraphModel> {
  const weights = readWeights(path.dirname(file), file, json.weightsManifest);
  const { topology, specs, data } = optimize
    ? fuseChannelAffine(json.modelTopology, weights.specs, weights.data)
    : { topology: json.modelTopology, ...weights };
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: topology as tf.io.ModelJSON['modelTopology'],
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    weightSpecs: specs,
    weightData: data,
    ...(json.signature ? { signature: json.signature } : {}),
    ...(json.modelInitializer ? { modelInitializer: json.modelInitializer } : {}),
    ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
  };
  try {
    return await tfc.loadGraphModel({ load: async () => artifacts });
  } catch (error) {
    throw new ModelFileError(`Cannot build the graph model in ${file}: ${(error as Error).message}`, file, {
      cause: error,
    });
  }
}

/** The class count of a graph model: from its signature, else from one prediction. */
function graphClasses(
  file: string,
  json: tf.io.ModelJSON,
  model: tfc.GraphModel,
  input: [number, number, number],
): number {
  const dims = graphSignatureDims(json, 'outputs') ?? model.outputs[0]?.shape;
  const fromSignature = dims?.length === 2 ? knownDim(dims[1]) : undefined;
  if (fromSignature !== undefined) return fromSignature;
  const shape = tf.tidy(() => {
    const output = model.predict(tf.zeros([1, ...input])) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(output) ? output[0]! : output).shape;
  });
  if (shape.length !== 2 || !(shape[1]! >= 1)) {
    throw new ModelFileError(
      `${file}: the model outputs [${shape.join(', ')}], not class scores [batch, classes]`,
      file,
    );
  }
  return shape[1]!;
}

/**
 * Loads a TensorFlow.js model from a folder or a model.json, in the layers format
 * (tf.loadLayersModel's) or the graph format (the TensorFlow.js converter's), from disk.
 */
export async function loadTfjsModel(location: string, options: LoadTfjsModelOptions = {}): Promise<TfjsModel> {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const imageSize = options.imageSize;
  if (
    imageSize !== undefined &&
    (!Array.isArray(imageSize) || imageSize.length !== 2 || !imageSize.every((d) => Number.isInteger(d) && d >= 1))
  ) {
    throw invalidParameterError('options.imageSize', 'an array [height, width] of positive integers', imageSize);
  }
  const optimizeGraph = options.optimizeGraph ?? true;
  if (typeof optimizeGraph !== 'boolean')
    throw invalidParameterError('options.optimizeGraph', 'a boolean', options.optimizeGraph);
  const file = modelJsonPath(location);
  const json = readModelJson(file);
  if (json.format === 'layers-model') {
    if (path.basename(file) !== 'model.json') {
      throw new ModelFileError(`${file}: a layers model is loaded from its folder's model.json`, file);
    }
    const { model, metadata } = await loadModel(path.dirname(file));
    try {
      const inputShape = imageInputShape(file, model.inputs[0]?.shape, imageSize);
      const output = model.outputs[0]?.shape;
      if (model.inputs.length !== 1 || model.outputs.length !== 1 || output?.length !== 2 || !output[1]) {
        throw new ModelFileError(
          `${file}: not an image classifier with one input and one output [batch, classes]`,
          file,
        );
      }
      return {
        format: 'layers-model',
        file,
        model,
        inputShape,
        numClasses: output[1],
        metadata,
        dispose: () => model.dispose(),
      };
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  const model = await loadGraph(file, json, optimizeGraph);
  try {
    const inputShape = imageInputShape(file, graphSignatureDims(json, 'inputs') ?? model.inputs[0]?.shape, imageSize);
    if (model.inputs.length !== 1)
      throw new ModelFileError(`${file}: the graph has ${model.inputs.length} inputs, not one image input`, file);
    if (model.inputs[0]!.dtype !== 'float32') {
      throw new ModelFileError(
        `${file}: the graph's input is ${model.inputs[0]!.dtype}; float32 images are supported`,
        file,
      );
    }
    const numClasses = graphClasses(file, json, model, inputShape);
    return {
      format: 'graph-model',
      file,
      model,
      inputShape,
      numClasses,
      metadata: undefined,
      dispose: () => model.dispose(),
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

export type OutputKind = 'probabilities' | 'logits' | 'auto';
export const OUTPUT_KINDS: readonly OutputKind[] = ['probabilities', 'logits', 'auto'];

export interface TfjsClassifierOptions {
  /** Images per forward pass. Default 256. */
  batchSize?: number;
  /**
   * What the model outputs: 'probabilities' are used as they are, 'logits' get a softmax, and 'auto'
   * (default) decides on the first batch: rows of numbers in [0, 1] that sum to 1 are probabilities.
   */
  outputs?: OutputKind;
  /** The pixel preprocessing the model expects (the engine applies it while augmenting). Default x / 255. */
  preprocessing?: Preprocessing;
}

/** A Classifier that also says which output kind it settled on. */
export interface TfjsClassifier extends Classifier {
  /** 'probabilities' or 'logits' once known ('auto' decides on the first prediction). */
  readonly outputs: OutputKind;
}

/** Whether every row of [n, classes] looks like a probability distribution. */
export function rowsAreProbabilities(values: Float32Array, classes: number): boolean {
  for (let row = 0; row < values.length; row += classes) {
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      const p = values[row + k]!;
      if (!(p >= 0 && p <= 1)) return false;
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

function isTfjsModel(value: unknown): value is TfjsModel {
  return (
    isPlainObject(value) && (value.format === 'layers-model' || value.format === 'graph-model') && 'model' in value
  );
}

/**
 * The engine's Classifier for a TensorFlow.js model (a loaded TfjsModel, a LayersModel or a
 * GraphModel): float32 NHWC batches in, class probabilities out, every tensor released.
 */
export function tfjsClassifier(model: TfjsModel | AnyModel, options: TfjsClassifierOptions = {}): TfjsClassifier {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const batchSize = options.batchSize ?? 256;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw outOfRangeError('options.batchSize', 'an integer >= 1', batchSize);
  let outputs: OutputKind = options.outputs ?? 'auto';
  if (!OUTPUT_KINDS.includes(outputs))
    throw invalidParameterError('options.outputs', `one of ${OUTPUT_KINDS.join(', ')}`, outputs);
  let net: AnyModel;
  let inputShape: [number, number, number];
  let numClasses: number;
  if (isTfjsModel(model)) {
    ({ model: net, inputShape, numClasses } = model);
  } else if (model instanceof tfl.LayersModel || model instanceof tfc.GraphModel) {
    net = model;
    const shape = model.inputs[0]?.shape;
    inputShape = imageInputShape('model', shape as (number | null)[] | undefined, undefined);
    const out = model.outputs[0]?.shape;
    if (out === undefined || out.length !== 2 || !(Number(out[1]) >= 1)) {
      throw invalidParameterError(
        'model',
        'a classifier with one output [batch, classes]',
        described(`output shape [${out?.join(', ') ?? '?'}]`),
      );
    }
    numClasses = Number(out[1]);
  } else {
    throw invalidParameterError(
      'model',
      'a TensorFlow.js LayersModel or GraphModel, or what loadTfjsModel returns',
      model,
    );
  }
  if (outputs === 'auto' && net instanceof tfl.LayersModel) {
    // A Keras classifier says it: a linear last layer outputs logits.
    const last = net.layers[net.layers.length - 1];
    const activation = (last?.getConfig() as { activation?: unknown } | undefined)?.activation;
    if (activation === 'linear') outputs = 'logits';
    else if (activation === 'softmax') outputs = 'probabilities';
  }
  const [h, w, c] = inputShape;
  const pixels = h * w * c;
  const run = (images: Float32Array, count: number): tf.Tensor2D => {
    const x = tf.tensor4d(images.subarray(0, count * pixels), [count, h, w, c]);
    const y =
      net instanceof tfl.LayersModel
        ? net.predict(x, { batchSize: count })
        : (net.predict(x) as tf.Tensor | tf.Tensor[]);
    const first = Array.isArray(y) ? y[0]! : (y as tf.Tensor);
    if (first.shape.length !== 2 || first.shape[0] !== count || first.shape[1] !== numClasses) {
      throw new ModelFileError(
        `The model output [${first.shape.join(', ')}] for ${count} images, not [${count}, ${numClasses}]`,
        'model',
      );
    }
    return first as tf.Tensor2D;
  };
  const classifier: TfjsClassifier = {
    inputShape,
    numClasses,
    ...(options.preprocessing ? { preprocessing: options.preprocessing } : {}),
    get outputs() {
      return outputs;
    },
    async predict(images: Float32Array, count: number): Promise<Float32Array> {
      if (!(images instanceof Float32Array) || images.length < count * pixels) {
        throw outOfRangeError('images', `a Float32Array of at least ${count} x ${h}x${w}x${c} values`, images);
      }
      const out = new Float32Array(count * numClasses);
      for (let start = 0; start < count; start += batchSize) {
        const n = Math.min(batchSize, count - start);
        const batch = images.subarray(start * pixels, (start + n) * pixels);
        const raw = tf.tidy(() => run(batch, n));
        try {
          if (outputs === 'auto') {
            // Decided once, on the first batch, so every image of a run is treated alike.
            outputs = rowsAreProbabilities((await raw.data()) as Float32Array, numClasses) ? 'probabilities' : 'logits';
          }
          const probabilities = outputs === 'logits' ? tf.tidy(() => tf.softmax(raw)) : raw;
          try {
            out.set((await probabilities.data()) as Float32Array, start * numClasses);
          } finally {
            if (probabilities !== raw) probabilities.dispose();
          }
        } finally {
          raw.dispose();
        }
      }
      return out;
    },
  };
  return classifier;
}
