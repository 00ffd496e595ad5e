// Argument validation shared by the native wrapper and the TS reference, so both
// accept and reject exactly the same calls with the same messages.
import { described, describe, invalidParameterError, isPlainObject, outOfRangeError } from '@tta/util';
import type { CropBox, CropPosition, Fill, Merge, ResolvedView, Rotation } from './types';

export const FILL_MODES: readonly Fill[] = ['constant', 'nearest', 'reflect', 'wrap'];
export const ROTATIONS: readonly Rotation[] = [0, 90, 180, 270];
export const CROP_POSITIONS: readonly CropPosition[] = [
  'center',
  'top-left',
  'top-right',
  'bottom-left',
  'bottom-right',
];
/** Zoom factors outside this range are surely mistakes (a 1000x window or a 1/1000 pixel one). */
export const ZOOM_RANGE: readonly [number, number] = [1e-3, 1e3];
/** Numbers per view in the addon's Float64Array: flip, vflip, quarterTurns, dx, dy, crop (4), zoom. */
export const VIEW_FIELDS = 10;
export const MERGE_MODES: readonly Merge[] = ['mean', 'sum', 'gmean', 'max', 'vote'];

const MAX_THREADS = 1024;
const INT32_MAX = 2 ** 31 - 1;

function checkOptionsObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalidParameterError(name, 'an object', value);
  return value;
}

function checkDims(
  name: string,
  shape: unknown,
  length: number,
  labels: readonly string[],
  minimums: readonly number[],
): number[] {
  if (!Array.isArray(shape) || shape.length !== length) {
    throw invalidParameterError(name, `an array of ${length} integers [${labels.join(', ')}]`, shape);
  }
  const dims = shape.map((d: unknown, i) => {
    const min = minimums[i] ?? 0;
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < min) {
      throw outOfRangeError(`${name}[${i}] (${labels[i]})`, `an integer >= ${min}`, d);
    }
    return d;
  });
  let product = 1;
  for (const d of dims) {
    product *= d;
    if (!Number.isSafeInteger(product)) {
      throw outOfRangeError(name, 'dimensions whose product is a safe integer', described(`[${dims.join(', ')}]`));
    }
  }
  return dims;
}

export function checkThreads(value: unknown, defaultThreads: number): number {
  if (value === undefined) return defaultThreads;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    throw outOfRangeError('options.threads', `an integer between 1 and ${MAX_THREADS}`, value);
  }
  return value;
}

function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer || a.byteLength === 0 || b.byteLength === 0) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

function allocate<T>(name: string, length: number, make: (length: number) => T): T {
  try {
    return make(length);
  } catch (error) {
    throw new RangeError(`Cannot allocate ${name} of ${length} elements: ${(error as Error).message}`);
  }
}

function checkOut<T extends Float32Array | Int32Array>(
  name: string,
  value: unknown,
  kind: { new (n: number): T; name: string },
  length: number,
): T {
  if (value === undefined) return allocate(name, length, (n) => new kind(n));
  if (!(value instanceof kind))
    throw invalidParameterError(name, `${/^[AEIOU]/.test(kind.name) ? 'an' : 'a'} ${kind.name}`, value);
  if (value.length !== length)
    throw outOfRangeError(name, `${/^[AEIOU]/.test(kind.name) ? 'an' : 'a'} ${kind.name} of length ${length}`, value);
  return value;
}

export interface AugmentArgs {
  images: Float32Array | Uint8Array;
  n: number;
  h: number;
  w: number;
  c: number;
  /** Output height and width (options.outputShape, default h and w). */
  outHeight: number;
  outWidth: number;
  views: ResolvedView[];
  /** VIEW_FIELDS numbers per view, as the addon takes them. */
  viewRecords: Float64Array;
  fill: Fill;
  fillCode: number;
  cval: number;
  /** One float32 factor per output channel. */
  scale: Float32Array;
  /** One float32 offset per output channel; 0 is stored as -0, the identity of addition. */
  offset: Float32Array;
  reverseChannels: boolean;
  out: Float32Array;
  threads: number;
}

export function normalizeAugmentArgs(
  images: unknown,
  shape: unknown,
  views: unknown,
  options: unknown,
  defaultThreads: number,
): AugmentArgs {
  if (!(images instanceof Float32Array) && !(images instanceof Uint8Array)) {
    throw invalidParameterError('images', 'a Float32Array or Uint8Array', images);
  }
  if (images instanceof Uint8ClampedArray)
    throw invalidParameterError('images', 'a Float32Array or Uint8Array', images);
  const [n, h, w, c] = checkDims('shape', shape, 4, ['n', 'h', 'w', 'c'], [0, 1, 1, 1]) as [
    number,
    number,
    number,
    number,
  ];
  const inputLength = n * h * w * c;
  if (images.length !== inputLength) {
    throw outOfRangeError('images', `length ${inputLength} (n*h*w*c of shape [${n}, ${h}, ${w}, ${c}])`, images);
  }
  if (!Array.isArray(views) || views.length === 0)
    throw invalidParameterError('views', 'a non-empty array of views', views);
  const opts = checkOptionsObject('options', options);
  const [outHeight, outWidth] =
    opts.outputShape === undefined
      ? [h, w]
      : (checkDims('options.outputShape', opts.outputShape, 2, ['height', 'width'], [1, 1]) as [number, number]);
  const normalized = views.map((view: unknown, i) => normalizeView(view, `views[${i}]`, h, w, outHeight, outWidth));
  const viewRecords = new Float64Array(normalized.length * VIEW_FIELDS);
  normalized.forEach((v, i) =>
    viewRecords.set(
      [
        v.flip ? 1 : 0,
        v.vflip ? 1 : 0,
        v.rotate / 90,
        v.dx,
        v.dy,
        v.crop.top,
        v.crop.left,
        v.crop.height,
        v.crop.width,
        v.zoom,
      ],
      i * VIEW_FIELDS,
    ),
  );

  const fill = opts.fill ?? 'nearest';
  const fillCode = FILL_MODES.indexOf(fill as Fill);
  if (fillCode < 0)
    throw invalidParameterError('options.fill', `one of ${FILL_MODES.map((f) => `'${f}'`).join(', ')}`, fill);
  const number = (key: string, fallback: number): number => {
    const value = opts[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw invalidParameterError(`options.${key}`, 'a finite number', value);
    return value;
  };
  const cval = number('cval', 0);
  const scale = perChannel(opts, 'scale', 1, c);
  const offset = perChannel(opts, 'offset', 0, c);
  // x + (-0) is x for every float, -0 included: an offset of 0 changes nothing, bit for bit.
  for (let k = 0; k < c; k++) if (offset[k] === 0) offset[k] = -0;
  const reverseChannels = opts.reverseChannels ?? false;
  if (typeof reverseChannels !== 'boolean')
    throw invalidParameterError('options.reverseChannels', 'a boolean', reverseChannels);
  const outLength = normalized.length * n * outHeight * outWidth * c;
  if (!Number.isSafeInteger(outLength))
    throw outOfRangeError('views', 'a views.length * n * outHeight * outWidth * c that is a safe integer', views);
  const out = checkOut('options.out', opts.out, Float32Array, outLength);
  if (overlaps(out, images)) throw outOfRangeError('options.out', 'a buffer that does not overlap images', out);
  const threads = checkThreads(opts.threads, defaultThreads);
  return {
    images,
    n,
    h,
    w,
    c,
    outHeight,
    outWidth,
    views: normalized,
    viewRecords,
    fill: fill as Fill,
    fillCode,
    cval,
    scale,
    offset,
    reverseChannels,
    out,
    threads,
  };
}

const VIEW_KEYS = ['flip', 'vflip', 'rotate', 'crop', 'zoom', 'dx', 'dy'];

/** One view with every field checked and its crop resolved for an h x w image. */
export function normalizeView(
  view: unknown,
  name: string,
  h: number,
  w: number,
  outHeight: number,
  outWidth: number,
): ResolvedView {
  if (!isPlainObject(view)) throw invalidParameterError(name, `an object { ${VIEW_KEYS.join(', ')} }`, view);
  for (const key of Object.keys(view)) {
    if (!VIEW_KEYS.includes(key)) throw invalidParameterError(name, `only the keys ${VIEW_KEYS.join(', ')}`, key);
  }
  const flag = (key: 'flip' | 'vflip'): boolean => {
    const value = view[key] ?? false;
    if (typeof value !== 'boolean') throw invalidParameterError(`${name}.${key}`, 'a boolean', value);
    return value;
  };
  const shift = (key: 'dx' | 'dy'): number => {
    const d = view[key] ?? 0;
    if (typeof d !== 'number' || !Number.isInteger(d) || Math.abs(d) > INT32_MAX) {
      throw outOfRangeError(`${name}.${key}`, `an integer between ${-INT32_MAX} and ${INT32_MAX}`, d);
    }
    return d;
  };
  const rotate = view.rotate ?? 0;
  if (!ROTATIONS.includes(rotate as Rotation))
    throw outOfRangeError(`${name}.rotate`, `one of ${ROTATIONS.join(', ')} (degrees counter-clockwise)`, rotate);
  if ((rotate === 90 || rotate === 270) && outHeight !== outWidth) {
    // One batch has one output shape, and a quarter turn would turn h x w into w x h.
    throw outOfRangeError(
      `${name}.rotate`,
      `0 or 180 for the non-square output ${outHeight}x${outWidth} (90 and 270 need outputShape with height === width)`,
      rotate,
    );
  }
  const zoom = view.zoom ?? 1;
  const [minZoom, maxZoom] = ZOOM_RANGE;
  if (typeof zoom !== 'number' || !(zoom >= minZoom && zoom <= maxZoom))
    throw outOfRangeError(`${name}.zoom`, `a number between ${minZoom} and ${maxZoom}`, zoom);
  const crop =
    view.crop === undefined ? { top: 0, left: 0, height: h, width: w } : resolveCrop(view.crop, h, w, `${name}.crop`);
  return {
    flip: flag('flip'),
    vflip: flag('vflip'),
    rotate: rotate as Rotation,
    crop,
    zoom,
    dx: shift('dx'),
    dy: shift('dy'),
  };
}

/** A crop box, or a named crop resolved to one, checked to lie inside an h x w image. */
export function resolveCrop(crop: unknown, h: number, w: number, name = 'crop'): CropBox {
  const expected = `{ top, left, height, width } or { position: ${CROP_POSITIONS.map((p) => `'${p}'`).join(' | ')}, size }`;
  if (!isPlainObject(crop)) throw invalidParameterError(name, expected, crop);
  const integer = (key: string, value: unknown, min: number): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
      throw outOfRangeError(`${name}.${key}`, `an integer >= ${min}`, value);
    return value;
  };
  let box: CropBox;
  if ('position' in crop) {
    const position = crop.position as CropPosition;
    if (!CROP_POSITIONS.includes(position))
      throw invalidParameterError(
        `${name}.position`,
        `one of ${CROP_POSITIONS.map((p) => `'${p}'`).join(', ')}`,
        position,
      );
    const size = crop.size;
    const [height, width] = Array.isArray(size)
      ? size.length === 2
        ? [integer('size[0]', size[0], 1), integer('size[1]', size[1], 1)]
        : (() => {
            throw invalidParameterError(`${name}.size`, 'an integer or [height, width]', size);
          })()
      : [integer('size', size, 1), integer('size', size, 1)];
    if (height > h || width > w) {
      throw outOfRangeError(`${name}.size`, `at most the image's ${h}x${w}`, described(`${height}x${width}`));
    }
    const top = position === 'center' ? Math.floor((h - height) / 2) : position.startsWith('top') ? 0 : h - height;
    const left = position === 'center' ? Math.floor((w - width) / 2) : position.endsWith('left') ? 0 : w - width;
    box = { top, left, height, width };
  } else {
    box = {
      top: integer('top', crop.top, 0),
      left: integer('left', crop.left, 0),
      height: integer('height', crop.height, 1),
      width: integer('width', crop.width, 1),
    };
    if (box.top + box.height > h || box.left + box.width > w) {
      throw outOfRangeError(
        name,
        `a box inside the ${h}x${w} image (top + height <= ${h}, left + width <= ${w})`,
        described(`{ top: ${box.top}, left: ${box.left}, height: ${box.height}, width: ${box.width} }`),
      );
    }
  }
  return box;
}

/** options[key]: one finite number or c of them, as float32 per channel. */
function perChannel(opts: Record<string, unknown>, key: string, fallback: number, c: number): Float32Array {
  const value = opts[key] ?? fallback;
  const name = `options.${key}`;
  const expected = `a finite float32 number or ${c} of them (one per channel)`;
  if (typeof value === 'number') {
    if (!Number.isFinite(Math.fround(value))) throw invalidParameterError(name, expected, value);
    return new Float32Array(c).fill(value);
  }
  if (typeof value !== 'object' || value === null || typeof (value as ArrayLike<unknown>).length !== 'number') {
    throw invalidParameterError(name, expected, value);
  }
  const values = value as ArrayLike<unknown>;
  if (values.length !== c) throw outOfRangeError(name, `${c} values (one per channel)`, value);
  const out = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const v = values[k];
    if (typeof v !== 'number' || !Number.isFinite(Math.fround(v)))
      throw invalidParameterError(`${name}[${k}]`, 'a finite float32 number', v);
    out[k] = v;
  }
  return out;
}

export interface SoftVoteArgs {
  predictions: Float32Array;
  views: number;
  n: number;
  classes: number;
  merge: Merge;
  mergeCode: number;
  weights: Float64Array;
  scores: Float32Array;
  labels: Int32Array;
  threads: number;
}

export function normalizeSoftVoteArgs(
  predictions: unknown,
  shape: unknown,
  options: unknown,
  defaultThreads: number,
): SoftVoteArgs {
  if (!(predictions instanceof Float32Array)) throw invalidParameterError('predictions', 'a Float32Array', predictions);
  const [views, n, classes] = checkDims('shape', shape, 3, ['views', 'n', 'classes'], [1, 0, 1]) as [
    number,
    number,
    number,
  ];
  const length = views * n * classes;
  if (predictions.length !== length) {
    throw outOfRangeError(
      'predictions',
      `length ${length} (views*n*classes of shape [${views}, ${n}, ${classes}])`,
      predictions,
    );
  }
  const opts = checkOptionsObject('options', options);
  const merge = opts.merge ?? 'mean';
  const mergeCode = MERGE_MODES.indexOf(merge as Merge);
  if (mergeCode < 0)
    throw invalidParameterError('options.merge', `one of ${MERGE_MODES.map((m) => `'${m}'`).join(', ')}`, merge);
  const weights = new Float64Array(views).fill(1);
  if (opts.weights !== undefined) {
    const given = opts.weights as ArrayLike<unknown>;
    if (typeof given !== 'object' || given === null || typeof given.length !== 'number') {
      throw invalidParameterError('options.weights', `an array of ${views} numbers`, given);
    }
    if (given.length !== views) throw outOfRangeError('options.weights', `${views} weights (one per view)`, given);
    let sum = 0;
    for (let v = 0; v < views; v++) {
      const w = given[v];
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
        throw outOfRangeError(`options.weights[${v}]`, 'a finite number >= 0', w);
      }
      weights[v] = w;
      sum += w;
    }
    if (!(sum > 0))
      throw outOfRangeError('options.weights', 'at least one weight above 0', `[${Array.from(weights).join(', ')}]`);
  }
  const scores = checkOut('options.out', opts.out, Float32Array, n * classes);
  const labels = checkOut('options.labels', opts.labels, Int32Array, n);
  if (overlaps(scores, predictions))
    throw outOfRangeError('options.out', 'a buffer that does not overlap predictions', scores);
  if (overlaps(labels, predictions))
    throw outOfRangeError('options.labels', 'a buffer that does not overlap predictions', labels);
  if (overlaps(labels, scores))
    throw outOfRangeError('options.labels', 'a buffer that does not overlap options.out', labels);
  const threads = checkThreads(opts.threads, defaultThreads);
  return { predictions, views, n, classes, merge: merge as Merge, mergeCode, weights, scores, labels, threads };
}

/** The error for a prediction that is not a probability, found at flat `index`. */
export function invalidPredictionError(args: SoftVoteArgs, index: number): RangeError {
  const k = index % args.classes;
  const i = Math.floor(index / args.classes) % args.n;
  const v = Math.floor(index / (args.classes * args.n));
  const expected =
    args.merge === 'gmean' ? "finite non-negative probabilities (merge 'gmean')" : 'finite probabilities';
  return new RangeError(
    `Expected ${expected} for predictions but received ${describe(args.predictions[index])} at index ${index} (view ${v}, image ${i}, class ${k})`,
  );
}
