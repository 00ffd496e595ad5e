// Model preprocessing as augment() options: every preset is a per-channel scale and
// offset (and for Caffe-style models a channel reversal), applied in augment's one pass.
import { invalidParameterError, isPlainObject, outOfRangeError } from '@tta/util';

export const PREPROCESSING_PRESETS = ['unit', 'symmetric', 'imagenet', 'caffe', 'raw'] as const;
export type PreprocessingPreset = (typeof PREPROCESSING_PRESETS)[number];

/** (x * scale - mean) / std per channel; mean and std are one value or one per channel. */
export interface Normalization {
  mean: number | ArrayLike<number>;
  std: number | ArrayLike<number>;
  /** Multiplies the pixel before the mean is subtracted. Default 1/255 (mean and std in [0, 1], as torchvision's). */
  scale?: number;
  /** Output channel k reads input channel c-1-k (RGB -> BGR). Default false. */
  reverseChannels?: boolean;
}

/** What augment() takes: out[k] = float32(float32(x * scale[k]) + offset[k]). */
export interface PreprocessingOptions {
  scale: number[];
  offset: number[];
  reverseChannels: boolean;
}

/** ImageNet statistics of RGB images in [0, 1] (torchvision, Keras' 'torch' mode). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** Caffe's ImageNet means in BGR order, in [0, 255] units (Keras' 'caffe' mode). */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;

/**
 * The augment() options { scale, offset, reverseChannels } of a model's preprocessing:
 * - 'unit': x / 255 (values in [0, 1]);
 * - 'symmetric': x / 127.5 - 1 (values in [-1, 1]; Keras' 'tf' mode, MobileNet, Inception);
 * - 'imagenet': x / 255, then (x - mean) / std with IMAGENET_MEAN and IMAGENET_STD, that is
 *   scale[k] = 1 / (255 std[k]) and offset[k] = -mean[k] / std[k] (3 channels);
 * - 'caffe': RGB -> BGR, then x - CAFFE_MEAN_BGR (3 channels; Keras' 'caffe' mode, VGG, ResNet50);
 * - 'raw': x unchanged;
 * - { mean, std, scale?, reverseChannels? }: (x * scale - mean[k]) / std[k], that is
 *   scale[k] = scale / std[k] and offset[k] = -mean[k] / std[k], mean and std indexed by output channel.
 * Factors are computed in double; augment() rounds them to float32.
 */
export function preprocessingOptions(
  preset: PreprocessingPreset | Normalization,
  channels: number,
): PreprocessingOptions {
  if (typeof channels !== 'number' || !Number.isSafeInteger(channels) || channels < 1) {
    throw outOfRangeError('channels', 'an integer >= 1', channels);
  }
  const same = (scale: number, offset: number): PreprocessingOptions => ({
    scale: new Array<number>(channels).fill(scale),
    offset: new Array<number>(channels).fill(offset),
    reverseChannels: false,
  });
  const rgb = (name: string): void => {
    if (channels !== 3) throw outOfRangeError('channels', `3 for the '${name}' preprocessing (RGB)`, channels);
  };
  if (typeof preset === 'string') {
    switch (preset) {
      case 'unit':
        return same(1 / 255, 0);
      case 'symmetric':
        return same(1 / 127.5, -1);
      case 'raw':
        return same(1, 0);
      case 'imagenet':
        rgb(preset);
        return {
          scale: IMAGENET_STD.map((s) => 1 / (255 * s)),
          offset: IMAGENET_MEAN.map((m, k) => -m / IMAGENET_STD[k]!),
          reverseChannels: false,
        };
      case 'caffe':
        rgb(preset);
        return { scale: [1, 1, 1], offset: CAFFE_MEAN_BGR.map((m) => -m), reverseChannels: true };
    }
  }
  if (!isPlainObject(preset)) {
    throw invalidParameterError(
      'preprocessing',
      `one of ${PREPROCESSING_PRESETS.map((p) => `'${p}'`).join(', ')} or { mean, std, scale?, reverseChannels? }`,
      preset,
    );
  }
  return normalization(preset as unknown as Normalization, channels);
}

function normalization(spec: Normalization, channels: number): PreprocessingOptions {
  const perChannel = (key: 'mean' | 'std'): number[] => {
    const value: unknown = spec[key];
    const name = `preprocessing.${key}`;
    const expected = `a finite number or ${channels} of them (one per channel)`;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw invalidParameterError(name, expected, value);
      return new Array<number>(channels).fill(value);
    }
    if (typeof value !== 'object' || value === null || typeof (value as ArrayLike<unknown>).length !== 'number') {
      throw invalidParameterError(name, expected, value);
    }
    const values = Array.from(value as ArrayLike<unknown>);
    if (values.length !== channels) throw outOfRangeError(name, `${channels} values (one per channel)`, value);
    return values.map((v, k) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw invalidParameterError(`${name}[${k}]`, 'a finite number', v);
      return v;
    });
  };
  const mean = perChannel('mean');
  const std = perChannel('std');
  std.forEach((s, k) => {
    if (s === 0) throw outOfRangeError(`preprocessing.std[${k}]`, 'a non-zero number', s);
  });
  const scale = spec.scale ?? 1 / 255;
  if (typeof scale !== 'number' || !Number.isFinite(scale)) {
    throw invalidParameterError('preprocessing.scale', 'a finite number', scale);
  }
  const reverseChannels = spec.reverseChannels ?? false;
  if (typeof reverseChannels !== 'boolean') {
    throw invalidParameterError('preprocessing.reverseChannels', 'a boolean', reverseChannels);
  }
  return {
    scale: std.map((s) => scale / s),
    offset: mean.map((m, k) => -m / std[k]!),
    reverseChannels,
  };
}
