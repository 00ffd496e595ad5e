// A folder of images, one sub-folder per class (the torchvision ImageFolder / Keras
// image_dataset_from_directory convention), or plain files for unlabelled prediction:
// found and sorted here, decoded and resized by sharp (libvips, on its own threads), and
// streamed in chunks of NHWC uint8 so that memory stays bounded however many files there are.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { errorMessage, invalidParameterError, isPlainObject, outOfRangeError } from '@tta/util';
import { decodeBmp, isBmp } from './bmp';
import { DataError } from './errors';

/** File name endings read as images (case-insensitive); other files in the folders are ignored. */
export const IMAGE_EXTENSIONS = [
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.heic',
  '.heif',
  '.bmp',
] as const;

export type ResizeMode = 'fill' | 'cover' | 'contain';
export const RESIZE_MODES: readonly ResizeMode[] = ['fill', 'cover', 'contain'];

export interface DecodeOptions {
  /** Output [height, width]. */
  size: readonly [number, number];
  /** 3 (RGB, default) or 1 (grayscale): grayscale images become RGB and RGBA loses its alpha. */
  channels?: 1 | 3;
  /**
   * How an image of another shape reaches `size`: 'fill' stretches, 'cover' (default) scales the
   * shorter side to fit and crops the centre, 'contain' scales the longer side and letterboxes.
   */
  resize?: ResizeMode;
  /** Scale the shorter side to this many pixels first, then crop the centre to `size` (the classic 256 then 224). */
  resizeFrom?: number;
  /** The letterbox colour of 'contain', one value per channel (0-255). Default black. */
  background?: readonly number[];
}

interface CheckedDecodeOptions {
  height: number;
  width: number;
  channels: 1 | 3;
  resize: ResizeMode;
  resizeFrom: number | undefined;
  background: { r: number; g: number; b: number };
}

function positiveInteger(name: string, value: unknown, max = 65535): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw outOfRangeError(name, `an integer between 1 and ${max}`, value);
  }
  return value;
}

export function checkDecodeOptions(options: unknown): CheckedDecodeOptions {
  if (!isPlainObject(options))
    throw invalidParameterError('options', 'an object { size, channels?, resize?, ... }', options);
  const size = options.size;
  if (!Array.isArray(size) || size.length !== 2) {
    throw invalidParameterError('options.size', 'an array [height, width]', size);
  }
  const height = positiveInteger('options.size[0]', size[0]);
  const width = positiveInteger('options.size[1]', size[1]);
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw outOfRangeError('options.channels', '1 or 3', channels);
  const resize = options.resize ?? 'cover';
  if (!RESIZE_MODES.includes(resize as ResizeMode)) {
    throw invalidParameterError('options.resize', `one of ${RESIZE_MODES.join(', ')}`, resize);
  }
  const resizeFrom =
    options.resizeFrom === undefined ? undefined : positiveInteger('options.resizeFrom', options.resizeFrom);
  if (resizeFrom !== undefined && resizeFrom < Math.max(height, width)) {
    throw outOfRangeError(
      'options.resizeFrom',
      `a size of at least ${Math.max(height, width)} (the output)`,
      resizeFrom,
    );
  }
  const bg = options.background ?? [0, 0, 0];
  if (!Array.isArray(bg) || (bg.length !== 1 && bg.length !== 3) || bg.some((v) => !(v >= 0 && v <= 255))) {
    throw invalidParameterError('options.background', 'one or three values between 0 and 255', bg);
  }
  const [r, g = r, b = r] = bg as number[];
  return { height, width, channels, resize: resize as ResizeMode, resizeFrom, background: { r: r!, g: g!, b: b! } };
}

/** The sharp pipeline that turns one encoded image into `height x width x channels` bytes. */
async function decodeWithSharp(input: string | Buffer, raw: sharp.Raw | undefined, o: CheckedDecodeOptions) {
  // failOn 'error': a truncated or corrupt file is an error, not a half-grey image.
  let image = sharp(input, { failOn: 'error', ...(raw ? { raw } : {}) }).autoOrient();
  image = o.channels === 1 ? image.greyscale() : image.toColourspace('srgb');
  image = image.removeAlpha();
  if (o.resizeFrom !== undefined) {
    const meta = await sharp(input, raw ? { raw } : {})
      .autoOrient()
      .metadata();
    const w0 = meta.width ?? 0;
    const h0 = meta.height ?? 0;
    if (w0 < 1 || h0 < 1) throw new Error('the image has no size');
    const scale = o.resizeFrom / Math.min(w0, h0);
    const w1 = Math.max(o.width, Math.round(w0 * scale));
    const h1 = Math.max(o.height, Math.round(h0 * scale));
    image = image.resize(w1, h1, { fit: 'fill', kernel: 'linear' }).extract({
      left: Math.floor((w1 - o.width) / 2),
      top: Math.floor((h1 - o.height) / 2),
      width: o.width,
      height: o.height,
    });
  } else {
    image = image.resize(o.width, o.height, {
      fit: o.resize,
      position: 'centre',
      kernel: 'linear',
      background: { ...o.background, alpha: 1 },
    });
  }
  return image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
}

/**
 * Decodes one image file into `out` (height * width * channels bytes, NHWC): EXIF orientation
 * applied, grayscale expanded (or colour reduced) to `channels`, alpha dropped, resized.
 * Throws a DataError naming the file when it is not an image sharp can read.
 */
export async function decodeImageFile(file: string, options: DecodeOptions, out?: Uint8Array): Promise<Uint8Array> {
  const o = checkDecodeOptions(options);
  const length = o.height * o.width * o.channels;
  if (out !== undefined && (!(out instanceof Uint8Array) || out.length !== length)) {
    throw invalidParameterError('out', `a Uint8Array of length ${length}`, out);
  }
  let result: { data: Buffer; info: sharp.OutputInfo };
  try {
    let bytes: Buffer | undefined;
    let raw: sharp.Raw | undefined;
    if (path.extname(file).toLowerCase() === '.bmp') {
      bytes = await fs.promises.readFile(file);
      if (isBmp(bytes)) {
        const bmp = decodeBmp(bytes);
        bytes = Buffer.from(bmp.data.buffer, bmp.data.byteOffset, bmp.data.length);
        raw = { width: bmp.width, height: bmp.height, channels: bmp.channels };
      }
    }
    result = await decodeWithSharp(bytes ?? file, raw, o);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'the file does not exist' : errorMessage(error).split('\n')[0];
    throw new DataError('TTA_DATA_INVALID', `Cannot read the image ${file}: ${reason}`, { file, cause: error });
  }
  const { data, info } = result;
  if (info.width !== o.width || info.height !== o.height || info.channels !== o.channels || data.length !== length) {
    throw new DataError(
      'TTA_DATA_INVALID',
      `Cannot read the image ${file}: decoded to ${info.width}x${info.height}x${info.channels}, not ${o.width}x${o.height}x${o.channels}`,
      { file },
    );
  }
  const target = out ?? new Uint8Array(length);
  target.set(data);
  return target;
}

function isImageFile(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());
}

/** Code-point order, the same on every machine (Python's sorted(), which torchvision uses). */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function statOrThrow(p: string, what: string): fs.Stats {
  try {
    return fs.statSync(p);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(
      'TTA_DATA_NOT_FOUND',
      code === 'ENOENT' ? `${what} ${p} does not exist` : `Cannot read ${what} ${p}: ${errorMessage(error)}`,
      { file: p, cause: error },
    );
  }
}

/** Every image file under `dir`, recursively (symbolic links followed), in sorted order. */
function walkImages(dir: string, seen = new Set<string>()): string[] {
  const real = fs.realpathSync(dir);
  if (seen.has(real)) return []; // a link cycle
  seen.add(real);
  const files: string[] = [];
  for (const name of fs.readdirSync(dir).sort(byName)) {
    if (name.startsWith('.')) continue;
    const full = path.join(dir, name);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch {
      continue; // a dangling link
    }
    if (stat.isDirectory()) files.push(...walkImages(full, seen));
    else if (stat.isFile() && isImageFile(name)) files.push(full);
  }
  return files;
}

export interface ImageFolderIndex {
  root: string;
  /** Class names in label order: `labels` when given, else the sorted sub-folder names. */
  classes: string[];
  /** Every image file, class by class, each class's files sorted. */
  files: string[];
  /** The label (index into `classes`) of each file. */
  labels: Int32Array;
  /** Images per class, in label order. */
  counts: number[];
}

export interface ScanOptions {
  /**
   * Class names in the model's output order (e.g. from a labels file): each sub-folder's name
   * must be one of them. Without it, the sorted sub-folder names are the classes.
   */
  labels?: readonly string[];
}

/**
 * Finds the classes and image files of a labelled folder: one sub-folder per class, images
 * anywhere below it. Clear errors for a missing folder, no class folders, an empty class,
 * images at the top level, and a class not in `labels`.
 */
export function scanImageFolder(dir: string, options: ScanOptions = {}): ImageFolderIndex {
  if (typeof dir !== 'string' || dir === '') throw invalidParameterError('dir', 'a folder path', dir);
  const root = path.resolve(dir);
  if (!statOrThrow(root, 'The image folder').isDirectory()) {
    throw new DataError('TTA_DATA_INVALID', `${root} is a file, not a folder of class folders`, { file: root });
  }
  const entries = fs
    .readdirSync(root)
    .filter((name) => !name.startsWith('.'))
    .sort(byName);
  const folders = entries.filter((name) =>
    fs.statSync(path.join(root, name), { throwIfNoEntry: false })?.isDirectory(),
  );
  const loose = entries.filter((name) => isImageFile(name) && !folders.includes(name));
  if (loose.length > 0) {
    throw new DataError(
      'TTA_DATA_INVALID',
      `${root} holds image files at its top level (${loose.slice(0, 3).join(', ')}${loose.length > 3 ? ', ...' : ''}): ` +
        'put each class in its own sub-folder (or use tta predict for unlabelled images)',
      { file: path.join(root, loose[0]!) },
    );
  }
  if (folders.length === 0) {
    throw new DataError('TTA_DATA_INVALID', `${root} has no class sub-folders (one folder of images per class)`, {
      file: root,
    });
  }
  const labels = options.labels;
  if (labels !== undefined) {
    if (!Array.isArray(labels) || labels.length === 0 || labels.some((l) => typeof l !== 'string')) {
      throw invalidParameterError('options.labels', 'a non-empty array of class names', labels);
    }
    const unknown = folders.filter((f) => !labels.includes(f));
    if (unknown.length > 0) {
      throw new DataError(
        'TTA_DATA_INVALID',
        `The class folders ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''} of ${root} are not among the ${labels.length} class names given`,
        { file: path.join(root, unknown[0]!) },
      );
    }
  }
  const classes = labels !== undefined ? [...labels] : folders;
  const files: string[] = [];
  const fileLabels: number[] = [];
  const counts = new Array<number>(classes.length).fill(0);
  for (const folder of folders) {
    const images = walkImages(path.join(root, folder));
    if (images.length === 0) {
      throw new DataError('TTA_DATA_INVALID', `The class folder ${path.join(root, folder)} holds no images`, {
        file: path.join(root, folder),
      });
    }
    const label = classes.indexOf(folder);
    counts[label] = images.length;
    for (const file of images) {
      files.push(file);
      fileLabels.push(label);
    }
  }
  return { root, classes, files, labels: Int32Array.from(fileLabels), counts };
}

/**
 * The image files named by `paths` (files, or folders searched recursively), sorted within
 * each folder and without duplicates, for unlabelled prediction.
 */
export function listImageFiles(paths: readonly string[]): string[] {
  if (!Array.isArray(paths) || paths.length === 0)
    throw invalidParameterError('paths', 'a non-empty array of paths', paths);
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    if (typeof p !== 'string' || p === '') throw invalidParameterError('paths[]', 'a file or folder path', p);
    const full = path.resolve(p);
    const files = statOrThrow(full, 'The path').isDirectory() ? walkImages(full) : [full];
    for (const file of files) {
      if (!seen.has(file)) {
        seen.add(file);
        out.push(file);
      }
    }
  }
  if (out.length === 0) {
    throw new DataError('TTA_DATA_NOT_FOUND', `No image files (${IMAGE_EXTENSIONS.join(' ')}) in ${paths.join(', ')}`);
  }
  return out;
}

/** A run of decoded images: NHWC uint8 and which files they came from. */
export interface ImageChunk {
  images: Uint8Array;
  count: number;
  /** Index (into the files given) of each image of the chunk, in order. */
  indices: Int32Array;
  /** Files of this stretch that could not be decoded (with skipBad). */
  skipped: { file: string; index: number; reason: string }[];
}

export interface ReadImagesOptions extends DecodeOptions {
  /** Images per chunk. Default 64. */
  chunkSize?: number;
  /** Skip undecodable files (reported in each chunk's `skipped`) instead of failing on the first. */
  skipBad?: boolean;
  /** Decodes in flight at once (sharp runs them on libuv's threads). Default: twice the cores, at least 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Decodes `files` in order into chunks of NHWC uint8. Decoding runs ahead of the consumer by at
 * most one chunk (plus the decodes in flight), so while the caller predicts one chunk the next
 * is being decoded, and memory does not grow with the number of files.
 */
export async function* readImages(files: readonly string[], options: ReadImagesOptions): AsyncGenerator<ImageChunk> {
  if (!Array.isArray(files)) throw invalidParameterError('files', 'an array of file paths', files);
  const o = checkDecodeOptions(options);
  const chunkSize =
    options.chunkSize === undefined ? 64 : positiveInteger('options.chunkSize', options.chunkSize, 1 << 20);
  const concurrency =
    options.concurrency === undefined
      ? Math.max(4, 2 * os.availableParallelism())
      : positiveInteger('options.concurrency', options.concurrency, 1024);
  const imageBytes = o.height * o.width * o.channels;
  const decodeOptions: DecodeOptions = { ...options, size: [o.height, o.width] };
  type Result = { ok: true; data: Uint8Array } | { ok: false; reason: string; error: unknown };
  const pending = new Map<number, Promise<Result>>();
  let next = 0;
  const window = chunkSize + concurrency;
  const start = (): void => {
    while (next < files.length && pending.size < window) {
      const index = next++;
      pending.set(
        index,
        decodeImageFile(files[index]!, decodeOptions).then(
          (data): Result => ({ ok: true, data }),
          (error: unknown): Result => ({ ok: false, reason: errorMessage(error), error }),
        ),
      );
    }
  };
  for (let first = 0; first < files.length; first += chunkSize) {
    const last = Math.min(files.length, first + chunkSize);
    const images = new Uint8Array((last - first) * imageBytes);
    const indices: number[] = [];
    const skipped: ImageChunk['skipped'] = [];
    for (let index = first; index < last; index++) {
      if (options.signal?.aborted) return;
      start();
      const result = await pending.get(index)!;
      pending.delete(index);
      if (!result.ok) {
        if (!options.skipBad) throw result.error;
        skipped.push({ file: files[index]!, index, reason: result.reason });
        continue;
      }
      images.set(result.data, indices.length * imageBytes);
      indices.push(index);
    }
    start();
    yield {
      images: images.subarray(0, indices.length * imageBytes),
      count: indices.length,
      indices: Int32Array.from(indices),
      skipped,
    };
  }
}

/** Image files as a source of chunks for the TTA engine (structurally @tta/core's ImageSource). */
export interface ImageFileSource {
  readonly files: readonly string[];
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  /** Files that could not be decoded so far (with skipBad), in file order. */
  readonly skipped: { file: string; index: number; reason: string }[];
  chunks(chunkSize: number, signal?: AbortSignal): AsyncIterable<ImageChunk>;
}

/**
 * A source that decodes `files` as the engine asks for chunks (see readImages); the chunk
 * size is the engine's. Each pass decodes again, so a source can be read more than once.
 */
export function imageFileSource(
  files: readonly string[],
  options: Omit<ReadImagesOptions, 'chunkSize' | 'signal'>,
): ImageFileSource {
  if (!Array.isArray(files)) throw invalidParameterError('files', 'an array of file paths', files);
  const o = checkDecodeOptions(options);
  const skipped: ImageFileSource['skipped'] = [];
  return {
    files,
    count: files.length,
    height: o.height,
    width: o.width,
    channels: o.channels,
    skipped,
    async *chunks(chunkSize: number, signal?: AbortSignal) {
      skipped.length = 0;
      for await (const chunk of readImages(files, { ...options, chunkSize, ...(signal ? { signal } : {}) })) {
        skipped.push(...chunk.skipped);
        yield chunk;
      }
    },
  };
}

export interface ImageFolderData {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  classes: string[];
  /** The file of each image, in order. */
  files: string[];
  skipped: { file: string; reason: string }[];
}

/** A whole labelled folder in memory (for small sets; large ones should stream with readImages). */
export async function loadImageFolder(dir: string, options: ReadImagesOptions & ScanOptions): Promise<ImageFolderData> {
  const index = scanImageFolder(dir, options);
  const o = checkDecodeOptions(options);
  const imageBytes = o.height * o.width * o.channels;
  const images = new Uint8Array(index.files.length * imageBytes);
  const labels: number[] = [];
  const files: string[] = [];
  const skipped: ImageFolderData['skipped'] = [];
  for await (const chunk of readImages(index.files, options)) {
    images.set(chunk.images, files.length * imageBytes);
    for (const i of chunk.indices) {
      files.push(index.files[i]!);
      labels.push(index.labels[i]!);
    }
    skipped.push(...chunk.skipped.map(({ file, reason }) => ({ file, reason })));
  }
  return {
    images: images.subarray(0, files.length * imageBytes),
    labels: Int32Array.from(labels),
    count: files.length,
    height: o.height,
    width: o.width,
    channels: o.channels,
    classes: index.classes,
    files,
    skipped,
  };
}
