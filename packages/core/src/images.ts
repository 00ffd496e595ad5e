// Where the engine's images come from: a batch in memory, or a stream of chunks (a folder
// decoded on the fly). Both are consumed chunk by chunk, so memory is bounded by the
// chunk, not by the data set.
import { described, invalidParameterError, isPlainObject, outOfRangeError } from '@tta/util';

/** NHWC images in memory: uint8 (0-255, the model's preprocessing applies) or float32 (already preprocessed). */
export interface ImageBatch {
  images: Uint8Array | Float32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** A run of images from a source, and which of the source's images they are. */
export interface SourceChunk {
  images: Uint8Array | Float32Array;
  count: number;
  /** The source index of each image of the chunk (a stream may leave out images it could not read). */
  indices: ArrayLike<number>;
}

/** Images read chunk by chunk. Structural, so other packages (a folder reader) can provide one. */
export interface ImageSource {
  /** How many images the source holds; chunk indices are below it. */
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  chunks(chunkSize: number, signal?: AbortSignal): AsyncIterable<SourceChunk>;
}

export type Images = ImageBatch | ImageSource;

export function isImageSource(images: unknown): images is ImageSource {
  return isPlainObject(images) && typeof images.chunks === 'function';
}

function checkBatch(batch: unknown): ImageBatch {
  if (!isPlainObject(batch) || !(batch.images instanceof Uint8Array || batch.images instanceof Float32Array)) {
    throw invalidParameterError(
      'images',
      'an image batch { images: Uint8Array | Float32Array, count, height, width, channels } or an image source',
      batch,
    );
  }
  const b = batch as unknown as ImageBatch;
  for (const key of ['count', 'height', 'width', 'channels'] as const) {
    const min = key === 'count' ? 0 : 1;
    if (!Number.isSafeInteger(b[key]) || b[key] < min)
      throw outOfRangeError(`images.${key}`, `an integer >= ${min}`, b[key]);
  }
  const length = b.count * b.height * b.width * b.channels;
  if (b.images.length !== length) {
    throw outOfRangeError(
      'images.images',
      `${length} values (count x height x width x channels = ${b.count} x ${b.height} x ${b.width} x ${b.channels})`,
      b.images,
    );
  }
  return b;
}

/** A batch in memory as a source: subarrays of it, no copies. */
export function memorySource(batch: ImageBatch): ImageSource {
  const b = checkBatch(batch);
  const pixels = b.height * b.width * b.channels;
  return {
    count: b.count,
    height: b.height,
    width: b.width,
    channels: b.channels,
    async *chunks(chunkSize: number, signal?: AbortSignal) {
      for (let first = 0; first < b.count; first += chunkSize) {
        if (signal?.aborted) return;
        const m = Math.min(chunkSize, b.count - first);
        const indices = new Int32Array(m);
        for (let j = 0; j < m; j++) indices[j] = first + j;
        yield { images: b.images.subarray(first * pixels, (first + m) * pixels), count: m, indices };
      }
    },
  };
}

/** Any accepted images as a checked source. */
export function toSource(images: Images): ImageSource {
  if (isImageSource(images)) {
    for (const key of ['count', 'height', 'width', 'channels'] as const) {
      const min = key === 'count' ? 0 : 1;
      if (!Number.isSafeInteger(images[key]) || images[key] < min) {
        throw outOfRangeError(`images.${key}`, `an integer >= ${min}`, images[key]);
      }
    }
    return images;
  }
  return memorySource(images);
}

/**
 * Images per chunk by default: the float32 views of a chunk take about 256 MB, with between
 * 32 and 1000 images (enough for full batches, few enough to keep memory flat).
 */
export function defaultChunkSize(height: number, width: number, channels: number, views = 1): number {
  return Math.max(32, Math.min(1000, Math.floor((256 * 2 ** 20) / (4 * views * height * width * channels))));
}

export function checkImageShape(source: ImageSource, inputShape: readonly [number, number, number]): void {
  const [h, w, c] = inputShape;
  if (source.height < h || source.width < w || source.channels !== c) {
    throw outOfRangeError(
      'images',
      `images of ${h}x${w}x${c} (the model's input) or larger with ${c} channels (every view is resampled or cropped to the input)`,
      described(`${source.height}x${source.width}x${source.channels} images`),
    );
  }
}
