import { binding } from './binding';
import type { AugmentOptions, ImageShape, PredictionShape, SoftVoteOptions, SoftVoteResult, View } from './types';
import {
  CROP_POSITIONS,
  FILL_MODES,
  MERGE_MODES,
  ROTATIONS,
  invalidPredictionError,
  normalizeAugmentArgs,
  normalizeSoftVoteArgs,
  resolveCrop,
} from './validate';

export type {
  AugmentOptions,
  CropBox,
  CropPosition,
  Fill,
  ImageShape,
  Merge,
  PredictionShape,
  SoftVoteOptions,
  NamedCrop,
  ResolvedView,
  Rotation,
  SoftVoteResult,
  View,
} from './types';
export { CROP_POSITIONS, FILL_MODES, MERGE_MODES, ROTATIONS, resolveCrop };
export {
  CAFFE_MEAN_BGR,
  IMAGENET_MEAN,
  IMAGENET_STD,
  PREPROCESSING_PRESETS,
  preprocessingOptions,
  type Normalization,
  type PreprocessingOptions,
  type PreprocessingPreset,
} from './preprocessing';
export { describe, invalidParameterError, outOfRangeError } from '@tta/util';

/** The number of threads used by default: the machine's cores. */
export function hardwareThreads(): number {
  return binding.hardwareThreads();
}

/**
 * Augments a batch of NHWC images into every view, view-major: the result is
 * [views.length, n, outHeight, outWidth, c] (the output shape defaults to the input's), so
 * predicting on it gives [views, n, classes] for softVote.
 */
export function augment(
  images: Float32Array | Uint8Array,
  shape: ImageShape,
  views: readonly View[],
  options?: AugmentOptions,
): Float32Array {
  const a = normalizeAugmentArgs(images, shape, views, options, binding.hardwareThreads());
  binding.augment(
    a.images,
    a.n,
    a.h,
    a.w,
    a.c,
    a.outHeight,
    a.outWidth,
    a.viewRecords,
    a.fillCode,
    a.cval,
    a.scale,
    a.offset,
    a.reverseChannels,
    a.out,
    a.threads,
  );
  return a.out;
}

/** augment() on the libuv thread pool; the inputs are kept alive until it settles. */
export async function augmentAsync(
  images: Float32Array | Uint8Array,
  shape: ImageShape,
  views: readonly View[],
  options?: AugmentOptions,
): Promise<Float32Array> {
  const a = normalizeAugmentArgs(images, shape, views, options, binding.hardwareThreads());
  await binding.augmentAsync(
    a.images,
    a.n,
    a.h,
    a.w,
    a.c,
    a.outHeight,
    a.outWidth,
    a.viewRecords,
    a.fillCode,
    a.cval,
    a.scale,
    a.offset,
    a.reverseChannels,
    a.out,
    a.threads,
  );
  return a.out;
}

/** Merges per-view class probabilities [views, n, classes] into scores [n, classes] and labels [n]. */
export function softVote(predictions: Float32Array, shape: PredictionShape, options?: SoftVoteOptions): SoftVoteResult {
  const a = normalizeSoftVoteArgs(predictions, shape, options, binding.hardwareThreads());
  const invalid = binding.softVote(
    a.predictions,
    a.views,
    a.n,
    a.classes,
    a.mergeCode,
    a.weights,
    a.scores,
    a.labels,
    a.threads,
  );
  if (invalid >= 0) throw invalidPredictionError(a, invalid);
  return { scores: a.scores, labels: a.labels };
}

/** softVote() on the libuv thread pool. */
export async function softVoteAsync(
  predictions: Float32Array,
  shape: PredictionShape,
  options?: SoftVoteOptions,
): Promise<SoftVoteResult> {
  const a = normalizeSoftVoteArgs(predictions, shape, options, binding.hardwareThreads());
  const invalid = await binding.softVoteAsync(
    a.predictions,
    a.views,
    a.n,
    a.classes,
    a.mergeCode,
    a.weights,
    a.scores,
    a.labels,
    a.threads,
  );
  if (invalid >= 0) throw invalidPredictionError(a, invalid);
  return { scores: a.scores, labels: a.labels };
}
