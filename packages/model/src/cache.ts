// The model cache: the tutorial's advice is to fit once and then try TTA
// schemes, so a training request (architecture, the options that change the
// weights, seed, backend, dataset identity) maps to a saved model that the same
// request reuses instead of training again.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { invalidParameterError, removeDebris } from '@tta/util';
import { defaultCacheDir, splitChecksum, type Split } from '@tta/data';
import { createModel } from './architectures';
import { currentBackend, selectBackend, type BackendName } from './backend';
import { loadModel, saveModel, ModelFileError, type ModelMetadata } from './io';
import { checkSplit, train, type ImageSplit, type TrainOptions } from './train';

export interface TrainCachedRequest {
  data: ImageSplit;
  /** Default 'reference-cnn'. */
  architecture?: string;
  trainOptions: TrainOptions;
  /**
   * The tta cache root; models go in its models/ folder. Default: TTA_CACHE_DIR, else the user cache folder
   * (~/.cache/tta).
   */
  cacheDir?: string;
  /** Train even when a cached model exists, then replace the cache entry. */
  noCache?: boolean;
  /** Select this backend first; default: whichever runs now. Part of the key, since backends round differently. */
  backend?: BackendName;
}

export interface TrainCachedResult {
  model: tfl.LayersModel;
  metadata: ModelMetadata;
  source: 'cache' | 'trained';
  dir: string;
}

/** Identity of a dataset: @tta/data's splitChecksum for 32x32x3 images, the same kind of hash otherwise. */
export function datasetChecksum(data: ImageSplit): string {
  const s = checkSplit('data', data);
  if (s.height === 32 && s.width === 32 && s.channels === 3) return splitChecksum(s as unknown as Split);
  return createHash('sha256')
    .update(`tta-split-v1 ${s.count}x${s.height}x${s.width}x${s.channels}\n`)
    .update(s.images)
    .update(s.labels)
    .digest('hex');
}

/**
 * The training options that change the resulting weights, normalised (defaults filled in) so equal requests give equal
 * keys.
 */
export function weightAffectingOptions(options: TrainOptions): Record<string, unknown> {
  const augment = options.augment ? { flip: options.augment.flip ?? true, shift: options.augment.shift ?? 0 } : false;
  const validation =
    options.validation === undefined
      ? null
      : typeof options.validation === 'number'
        ? options.validation
        : { checksum: datasetChecksum(options.validation) };
  return { epochs: options.epochs ?? 3, batchSize: options.batchSize ?? 128, augment, validation };
}

export function cacheKey(parts: {
  architecture: string;
  trainOptions: TrainOptions;
  backend: string;
  datasetChecksum: string;
  numClasses?: number;
}): string {
  const keyed = {
    version: 1,
    architecture: parts.architecture,
    options: weightAffectingOptions(parts.trainOptions),
    seed: parts.trainOptions.seed ?? null,
    numClasses: parts.numClasses ?? null,
    backend: parts.backend,
    dataset: parts.datasetChecksum,
  };
  return createHash('sha256').update(JSON.stringify(keyed)).digest('hex');
}

/** Returns the cached model for this request, or trains one, saves it into the cache and returns it. */
export async function trainCached(request: TrainCachedRequest): Promise<TrainCachedResult> {
  if (typeof request !== 'object' || request === null)
    throw invalidParameterError('request', 'an object { data, trainOptions, ... }', request);
  const { data, architecture = 'reference-cnn', trainOptions, noCache = false } = request;
  if (typeof trainOptions !== 'object' || trainOptions === null)
    throw invalidParameterError('request.trainOptions', 'an object', trainOptions);
  const split = checkSplit('request.data', data);
  const backend = request.backend !== undefined ? (await selectBackend(request.backend)).backend : currentBackend();
  const checksum = datasetChecksum(split);
  const key = cacheKey({
    architecture,
    trainOptions,
    backend,
    datasetChecksum: checksum,
    numClasses: trainOptions.numClasses,
  });
  const root = path.join(request.cacheDir !== undefined ? path.resolve(request.cacheDir) : defaultCacheDir(), 'models');
  const dir = path.join(root, `${architecture}-${key.slice(0, 24)}`);
  // Temporary folders of saves that were killed (a dead process, or a day old) go now.
  removeDebris(root);
  const inputShape: [number, number, number] = [split.height, split.width, split.channels];

  if (!noCache && fs.existsSync(path.join(dir, 'model.json'))) {
    try {
      const { model, metadata } = await loadModel(dir, { inputShape });
      if (metadata !== undefined && metadata.cacheKey === key) return { model, metadata, source: 'cache', dir };
      model.dispose();
    } catch (error) {
      // A damaged entry is retrained and replaced rather than failing the run.
      if (!(error instanceof ModelFileError)) throw error;
    }
  }

  const seed = trainOptions.seed ?? Math.floor(Math.random() * 2 ** 31);
  const model = createModel(architecture, {
    seed,
    inputShape,
    ...(trainOptions.numClasses !== undefined ? { numClasses: trainOptions.numClasses } : {}),
  });
  try {
    const result = await train(model, split, { ...trainOptions, seed });
    const last = <T>(values: T[] | undefined): T | undefined => values?.[values.length - 1];
    const metadata: ModelMetadata = {
      architecture,
      trainOptions: weightAffectingOptions(trainOptions),
      seed,
      backend,
      datasetChecksum: checksum,
      cacheKey: key,
      metrics: {
        loss: last(result.history.loss),
        accuracy: last(result.history.accuracy),
        ...(result.history.valLoss
          ? { valLoss: last(result.history.valLoss), valAccuracy: last(result.history.valAccuracy) }
          : {}),
      },
      imagesPerSecond: result.imagesPerSecond,
      trainingSeconds: result.seconds,
    };
    await saveModel(model, dir, metadata);
    return { model, metadata, source: 'trained', dir };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
