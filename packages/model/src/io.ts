// Saving and loading in the standard TensorFlow.js layers format (model.json plus
// binary weight shards) with plain fs, so no tfjs-node is needed for IO. A save
// is written into a temporary folder next to the target and renamed into place:
// a reader never sees half a model, and a crash leaves the old one (or none).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import fs from 'node:fs';
import path from 'node:path';
import { TtaError, invalidParameterError, removeDebris, replaceDirectory, temporarySibling } from '@tta/util';
import { modelInputShape } from './architectures';

export interface ModelMetrics {
  loss?: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
}

/** What tta records about a model it trained; stored in model.json's userDefinedMetadata.tta. */
export interface ModelMetadata {
  architecture: string;
  /** The training options that affect the weights (epochs, batch size, augmentation, validation...). */
  trainOptions?: Record<string, unknown>;
  seed?: number;
  /** The backend it was trained on. */
  backend?: string;
  /** Identity of the training data (splitChecksum). */
  datasetChecksum?: string;
  metrics?: ModelMetrics;
  /** ISO time of the save. */
  createdAt?: string;
  [key: string]: unknown;
}

/** A model file that cannot be loaded, with the file and the reason. */
export class ModelFileError extends TtaError {
  constructor(
    message: string,
    readonly file: string,
    options: { cause?: unknown } = {},
  ) {
    super('TTA_MODEL_FILE', message, options);
    this.name = 'ModelFileError';
  }
}

const SHARD_BYTES = 4 * 1024 * 1024;
const METADATA_KEY = 'tta';

function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/** Saves a model as dir/model.json + dir/group1-shard*of*.bin, atomically, with tta's metadata. */
export async function saveModel(model: tfl.LayersModel, dir: string, metadata: ModelMetadata): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw invalidParameterError('dir', 'a folder path', dir);
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.architecture !== 'string') {
    throw invalidParameterError('metadata', 'an object with an architecture name', metadata);
  }
  // What a killed earlier save of this model left beside it goes first.
  removeDebris(path.dirname(path.resolve(dir)), { filter: (target) => target === path.basename(path.resolve(dir)) });
  const temporary = temporarySibling(dir);
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = joinWeightData(artifacts.weightData);
        const shardCount = Math.max(1, Math.ceil(weights.length / SHARD_BYTES));
        const paths: string[] = [];
        for (let i = 0; i < shardCount; i++) {
          const name = `group1-shard${i + 1}of${shardCount}.bin`;
          fs.writeFileSync(path.join(temporary, name), weights.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
          paths.push(name);
        }
        const modelJson = {
          format: artifacts.format ?? 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          modelTopology: artifacts.modelTopology,
          ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
          weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
          userDefinedMetadata: {
            ...(artifacts.userDefinedMetadata ?? {}),
            [METADATA_KEY]: { ...metadata, createdAt: metadata.createdAt ?? new Date().toISOString() },
          },
        };
        fs.writeFileSync(path.join(temporary, 'model.json'), JSON.stringify(modelJson));
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
    replaceDirectory(temporary, path.resolve(dir));
  } catch (error) {
    fs.rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
  complex64: 8,
};

function specBytes(spec: tf.io.WeightsManifestEntry, file: string): number {
  const elements = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = DTYPE_BYTES[dtype];
  if (bytes === undefined)
    throw new ModelFileError(`${file}: weight ${spec.name} has unsupported dtype ${String(dtype)}`, file);
  return elements * bytes;
}

/** The two formats a TensorFlow.js model.json can have, told apart by its `format` field. */
export type ModelFormat = 'layers-model' | 'graph-model';

/** Reads and checks a model.json of either format; `expected` rejects the other one. */
export function readModelJson(file: string, expected?: ModelFormat): tf.io.ModelJSON & { format: ModelFormat } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelFileError(
      code === 'ENOENT'
        ? `No model at ${path.dirname(file)}: ${path.basename(file)} does not exist`
        : `Cannot read ${file}: ${(error as Error).message}`,
      file,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(
      `${file} is not valid JSON (${(error as Error).message}); the model file is corrupt`,
      file,
    );
  }
  const m = json as tf.io.ModelJSON;
  if (typeof json !== 'object' || json === null || typeof m.modelTopology !== 'object' || m.modelTopology === null) {
    throw new ModelFileError(`${file} is not a TensorFlow.js model: it has no modelTopology`, file);
  }
  // Old converters wrote no format; a graph has a node list, a layers model a class_name.
  const format: ModelFormat =
    m.format !== undefined
      ? (m.format as ModelFormat)
      : Array.isArray((m.modelTopology as { node?: unknown }).node)
        ? 'graph-model'
        : 'layers-model';
  if (format !== 'layers-model' && format !== 'graph-model') {
    throw new ModelFileError(
      `${file} has format '${String(m.format)}', neither 'layers-model' nor 'graph-model'`,
      file,
    );
  }
  if (expected !== undefined && format !== expected) {
    throw new ModelFileError(
      `${file} is a TensorFlow.js ${format === 'graph-model' ? 'graph' : 'layers'} model; a ${expected} is needed here`,
      file,
    );
  }
  if (!Array.isArray(m.weightsManifest))
    throw new ModelFileError(`${file} has no weightsManifest listing its weight files`, file);
  return { ...m, format };
}

/** Reads every weight shard named in the manifest, checking each group holds exactly the bytes its weights need. */
export function readWeights(
  dir: string,
  file: string,
  manifest: tf.io.WeightsManifestConfig,
): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of manifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights))
      throw new ModelFileError(`${file}: a weightsManifest entry lacks paths or weights`, file);
    const parts: Uint8Array[] = [];
    for (const shard of group.paths) {
      const shardPath = path.resolve(dir, shard);
      if (path.relative(dir, shardPath).startsWith('..'))
        throw new ModelFileError(`${file}: weight file ${shard} lies outside the model folder`, file);
      try {
        parts.push(fs.readFileSync(shardPath));
      } catch (error) {
        throw new ModelFileError(
          `${file} names weight file ${shard}, which cannot be read: ${(error as Error).message}`,
          shardPath,
        );
      }
    }
    const groupBytes = parts.reduce((a, p) => a + p.length, 0);
    const expected = group.weights.reduce((a, s) => a + specBytes(s, file), 0);
    if (groupBytes !== expected) {
      throw new ModelFileError(
        `Weight files ${group.paths.join(', ')} in ${dir} hold ${groupBytes} bytes but model.json describes ${expected}; the files are corrupt or do not belong to this model.json`,
        file,
      );
    }
    specs.push(...group.weights);
    buffers.push(...parts);
  }
  const total = buffers.reduce((a, b) => a + b.length, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    data.set(b, offset);
    offset += b.length;
  }
  return { specs, data: data.buffer as ArrayBuffer };
}

export interface LoadModelOptions {
  /** [height, width, channels] of the data it will see: a different model input is a clear error. */
  inputShape?: [number, number, number];
}

/**
 * Loads any TensorFlow.js layers model from a folder holding model.json and its weight files
 * (tta's own saves, or e.g. a Keras model converted with tensorflowjs_converter), with its tta metadata if any.
 */
export async function loadModel(
  dir: string,
  options: LoadModelOptions = {},
): Promise<{ model: tfl.LayersModel; metadata: ModelMetadata | undefined }> {
  if (typeof dir !== 'string' || dir === '') throw invalidParameterError('dir', 'a folder path', dir);
  const root = path.resolve(dir);
  const file = path.join(root, 'model.json');
  const json = readModelJson(file, 'layers-model');
  const { specs, data } = readWeights(root, file, json.weightsManifest);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: data,
        ...(json.trainingConfig ? { trainingConfig: json.trainingConfig } : {}),
        ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
      }),
    );
  } catch (error) {
    throw new ModelFileError(`Cannot build the model in ${file}: ${(error as Error).message}`, file);
  }
  const metadata = (json.userDefinedMetadata as Record<string, unknown> | undefined)?.[METADATA_KEY] as
    ModelMetadata | undefined;
  if (options.inputShape !== undefined) {
    const expected = options.inputShape;
    let actual: [number, number, number];
    try {
      actual = modelInputShape(model);
    } catch (error) {
      model.dispose();
      throw new ModelFileError(`The model in ${dir} does not take images: ${(error as Error).message}`, file);
    }
    if (actual.some((d, i) => d !== expected[i])) {
      model.dispose();
      throw new ModelFileError(
        `The model in ${dir} takes ${actual.join('x')} images (height x width x channels) but the data has ${expected.join('x')} images`,
        file,
      );
    }
  }
  return { model, metadata };
}
