// A user's own model and images, for tta eval, tune and predict: the flags that describe
// them (--model, --images, --labels, --preprocess, --resize...) and opening them.
import fs from 'node:fs';
import path from 'node:path';
import {
  RESIZE_MODES,
  imageFileSource,
  scanImageFolder,
  stratifiedSplit,
  type ImageFileSource,
  type ImageFolderIndex,
  type ResizeMode,
} from '@tta/data';
import {
  OUTPUT_KINDS,
  loadTfjsModel,
  tfjsClassifier,
  type OutputKind,
  type TfjsClassifier,
  type TfjsModel,
} from '@tta/model';
import { PREPROCESSING_PRESETS, preprocessingOptions, type PreprocessingPreset } from '@tta/native';
import { errorMessage } from '@tta/util';
import { choiceFlag, integerFlag } from './args';
import { UserError } from './errors';
import type { Output } from './context';

export const USER_MODEL_FLAGS = {
  model: { type: 'string' },
  images: { type: 'string' },
  labels: { type: 'string' },
  'image-size': { type: 'string' },
  resize: { type: 'string' },
  'resize-from': { type: 'string' },
  'view-size': { type: 'string' },
  'skip-bad': { type: 'boolean' },
  preprocess: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  outputs: { type: 'string' },
  'batch-size': { type: 'string' },
} as const;

export const USER_MODEL_HELP = `Your model and images
  --model PATH          a TensorFlow.js model: a folder or its model.json, layers or graph format
  --images DIR          a folder with one sub-folder of images per class (JPEG, PNG, WebP, GIF, TIFF, AVIF, BMP)
  --labels FILE         class names in the model's output order, one per line (default: the sorted folder names)
  --image-size H,W      the size to feed a model whose input size is not fixed
  --resize MODE         ${RESIZE_MODES.join(' | ')}: how other image shapes reach the input (default cover:
                        shorter side scaled, centre cropped; contain letterboxes in black)
  --resize-from S       scale the shorter side to S first, then crop the centre (the classic 256 then 224)
  --view-size S|H,W     read the images at this size (at least the model input) and make each TTA view from
                        it at the input size: crops and zooms of the larger image (--policy ten-crop from 256
                        for a 224 model), which tta tune then also tries
  --skip-bad            skip unreadable image files (listed in the JSON) instead of stopping at the first
  --preprocess NAME     ${PREPROCESSING_PRESETS.join(' | ')} (default unit): unit x/255, symmetric x/127.5-1,
                        imagenet (x/255-mean)/std, caffe BGR x-mean, raw 0..255
  --mean R,G,B          with --std: (x/255 - mean) / std per channel (torchvision's Normalize)
  --std R,G,B
  --outputs KIND        ${OUTPUT_KINDS.join(' | ')}: what the model outputs (default auto: rows that sum to 1
                        are probabilities, anything else gets a softmax)
  --batch-size N        images per forward pass (default 256)`;

type Flags = {
  [K in keyof typeof USER_MODEL_FLAGS]?: (typeof USER_MODEL_FLAGS)[K]['type'] extends 'boolean' ? boolean : string;
};

export interface UserModelConfig {
  model: string;
  labels?: string;
  imageSize?: [number, number];
  /** --view-size: the size images are read at, when larger than the model input. */
  viewSize?: [number, number];
  resize: ResizeMode;
  resizeFrom?: number;
  skipBad: boolean;
  preprocess: PreprocessingPreset | { mean: number[]; std: number[] };
  outputs: OutputKind;
  batchSize: number;
}

function numberList(name: string, value: string, length: number): number[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== length || parts.some((n) => !Number.isFinite(n))) {
    throw new UserError(`--${name} expects ${length} comma-separated numbers, got '${value}'`);
  }
  return parts;
}

/** Parses the model and image flags; `model` is required when `required`. */
export function parseUserModelFlags(f: Flags, required: boolean): UserModelConfig | undefined {
  if (f.model === undefined) {
    if (required) throw new UserError('--model PATH is needed (a TensorFlow.js model folder or model.json)');
    for (const name of [
      'labels',
      'image-size',
      'preprocess',
      'mean',
      'std',
      'outputs',
      'resize',
      'resize-from',
      'view-size',
    ] as const) {
      if (f[name] !== undefined) throw new UserError(`--${name} describes your own model; it needs --model`);
    }
    return undefined;
  }
  if (f.model.trim() === '') throw new UserError('--model needs a folder or a model.json');
  let imageSize: [number, number] | undefined;
  if (f['image-size'] !== undefined) {
    const [h, w] = numberList('image-size', f['image-size'], 2);
    if (!Number.isInteger(h) || !Number.isInteger(w) || h! < 1 || w! < 1 || h! > 16384 || w! > 16384) {
      throw new UserError(`--image-size expects two integers between 1 and 16384, got '${f['image-size']}'`);
    }
    imageSize = [h!, w!];
  }
  let preprocess: UserModelConfig['preprocess'] =
    choiceFlag('preprocess', f.preprocess, PREPROCESSING_PRESETS) ?? 'unit';
  if (f.mean !== undefined || f.std !== undefined) {
    if (f.mean === undefined || f.std === undefined) throw new UserError('--mean and --std go together');
    if (f.preprocess !== undefined) throw new UserError('--mean/--std replace --preprocess; give one or the other');
    const mean = numberList('mean', f.mean, 3);
    const std = numberList('std', f.std, 3);
    if (std.some((s) => !(s > 0))) throw new UserError(`--std expects positive numbers, got '${f.std}'`);
    preprocess = { mean, std };
  }
  const resizeFrom = integerFlag('resize-from', f['resize-from'], { min: 1, max: 16384 });
  let viewSize: [number, number] | undefined;
  if (f['view-size'] !== undefined) {
    const parts = f['view-size'].split(',').map((v) => v.trim());
    const sizes = parts.map((v) => (/^\d+$/.test(v) ? Number(v) : NaN));
    if ((parts.length !== 1 && parts.length !== 2) || sizes.some((n) => !(n >= 1 && n <= 16384))) {
      throw new UserError(`--view-size expects S or H,W, integers between 1 and 16384, got '${f['view-size']}'`);
    }
    viewSize = [sizes[0]!, sizes[1] ?? sizes[0]!];
  }
  return {
    model: f.model,
    ...(f.labels !== undefined ? { labels: f.labels } : {}),
    ...(imageSize ? { imageSize } : {}),
    ...(viewSize ? { viewSize } : {}),
    resize: choiceFlag('resize', f.resize, RESIZE_MODES) ?? 'cover',
    ...(resizeFrom !== undefined ? { resizeFrom } : {}),
    skipBad: Boolean(f['skip-bad']),
    preprocess,
    outputs: choiceFlag('outputs', f.outputs, OUTPUT_KINDS) ?? 'auto',
    batchSize: integerFlag('batch-size', f['batch-size'], { min: 1, max: 65536 }) ?? 256,
  };
}

/** Reads a labels file: one class name per line; blank lines at the end are ignored. */
export function readLabelsFile(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`--labels ${file} cannot be read: ${errorMessage(error)}`);
  }
  const lines = text
    .replace(/\r\n?/g, '\n')
    .replace(/\n+$/, '')
    .split('\n')
    .map((l) => l.trim());
  if (lines.length === 0 || lines.every((l) => l === '')) throw new UserError(`--labels ${file} is empty`);
  const blank = lines.findIndex((l) => l === '');
  if (blank >= 0) throw new UserError(`--labels ${file}: line ${blank + 1} is empty; give one class name per line`);
  const seen = new Set<string>();
  for (const [i, l] of lines.entries()) {
    if (seen.has(l)) throw new UserError(`--labels ${file}: '${l}' appears twice (line ${i + 1})`);
    seen.add(l);
  }
  return lines;
}

export interface OpenedModel {
  model: TfjsModel;
  classifier: TfjsClassifier;
  /** Class names in output order when a labels file was given. */
  labels?: string[];
}

/** Loads --model (either format), with the labels file and the preprocessing it needs. */
export async function openUserModel(config: UserModelConfig, output: Output): Promise<OpenedModel> {
  const labels = config.labels !== undefined ? readLabelsFile(config.labels) : undefined;
  const model = await loadTfjsModel(config.model, config.imageSize ? { imageSize: config.imageSize } : {});
  try {
    const [h, w, c] = model.inputShape;
    if (c !== 1 && c !== 3)
      throw new UserError(`the model takes ${c}-channel images; tta reads images as RGB (3) or grayscale (1)`);
    if (labels !== undefined && labels.length !== model.numClasses) {
      throw new UserError(
        `--labels ${config.labels} names ${labels.length} classes but the model outputs ${model.numClasses}`,
      );
    }
    const classifier = tfjsClassifier(model, {
      batchSize: config.batchSize,
      outputs: config.outputs,
      preprocessing: preprocessingOptions(config.preprocess, c),
    });
    output.info(`model: ${model.file} (${model.format}, ${h}x${w}x${c} input, ${model.numClasses} classes)`);
    return { model, classifier, ...(labels ? { labels } : {}) };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The size images are read at: --view-size (checked to be at least the model input), else the input size. */
export function readSize(config: UserModelConfig, model: { inputShape: readonly number[] }): [number, number] {
  const [h, w] = model.inputShape as [number, number];
  if (!config.viewSize) return [h, w];
  const [vh, vw] = config.viewSize;
  if (vh < h || vw < w) {
    throw new UserError(
      `--view-size ${vh},${vw} is smaller than the model input ${h}x${w}; views are made from images at least that size`,
    );
  }
  return [vh, vw];
}

export interface OpenedFolder {
  index: ImageFolderIndex;
  source: ImageFileSource;
  /** The files used (all, or a stratified subset), in source order. */
  files: string[];
  truth: Int32Array;
}

/** A labelled folder as a source at the model's input size; the classes must fit the model's outputs. */
export function openImageFolder(
  dir: string,
  config: UserModelConfig,
  opened: OpenedModel,
  options: { limit?: number; seed?: number; subset?: readonly number[] } = {},
): OpenedFolder {
  const index = scanImageFolder(dir, opened.labels ? { labels: opened.labels } : {});
  if (!opened.labels && index.classes.length !== opened.model.numClasses) {
    throw new UserError(
      `${path.resolve(dir)} has ${index.classes.length} class folders but the model outputs ${opened.model.numClasses} classes; ` +
        "give --labels FILE with the class names in the model's output order",
    );
  }
  let chosen: readonly number[] = options.subset ?? Array.from({ length: index.files.length }, (_, i) => i);
  if (options.limit !== undefined && options.limit < chosen.length) {
    const from = chosen;
    const picked = stratifiedSplit(
      Int32Array.from(from, (i) => index.labels[i]!),
      options.limit,
      options.seed ?? 0,
    ).chosen;
    chosen = Array.from(picked, (j) => from[j]!);
  }
  const files = chosen.map((i) => index.files[i]!);
  const c = opened.model.inputShape[2];
  const source = imageFileSource(files, {
    size: readSize(config, opened.model),
    channels: c as 1 | 3,
    resize: config.resize,
    ...(config.resizeFrom !== undefined ? { resizeFrom: config.resizeFrom } : {}),
    skipBad: config.skipBad,
  });
  return { index, source, files, truth: Int32Array.from(chosen, (i) => index.labels[i]!) };
}

/** The --images folders and files as one flat list, for unlabelled prediction. */
export function imageArguments(values: readonly string[]): string[] {
  const list = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (list.length === 0) throw new UserError('--images needs a folder or image files');
  return list;
}
