// Argument validation shared by the native wrapper and the TS reference, so both
// accept and reject exactly the same calls with the same messages.
import { described, describe, invalidParameterError, isPlainObject, outOfRangeError } from '@tta/util';
import type { Fill, Merge, View } from './types';

export const FILL_MODES: readonly Fill[] = ['constant', 'nearest', 'reflect', 'wrap'];
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
  views: Required<View>[];
  /** (flip, dx, dy) triples, as the addon takes them. */
  viewTriples: Int32Array;
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
  const normalized = views.map((view: unknown, i): Required<View> => {
    if (!isPlainObject(view)) throw invalidParameterError(`views[${i}]`, 'an object { flip?, dx?, dy? }', view);
    const flip = view.flip ?? false;
    if (typeof flip !== 'boolean') throw invalidParameterError(`views[${i}].flip`, 'a boolean', flip);
    const shift = (key: 'dx' | 'dy'): number => {
      const d = view[key] ?? 0;
      if (typeof d !== 'number' || !Number.isInteger(d) || Math.abs(d) > INT32_MAX) {
        throw outOfRangeError(`views[${i}].${key}`, `an integer between ${-INT32_MAX} and ${INT32_MAX}`, d);
      }
      return d;
    };
    return { flip, dx: shift('dx'), dy: shift('dy') };
  });
  const viewTriples = new Int32Array(normalized.length * 3);
  normalized.forEach((v, i) => viewTriples.set([v.flip ? 1 : 0, v.dx, v.dy], i * 3));

  const opts = checkOptionsObject('options', options);
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
  const outLength = normalized.length * inputLength;
  if (!Number.isSafeInteger(outLength))
    throw outOfRangeError('views', 'a views.length * n * h * w * c that is a safe integer', views);
  const out = checkOut('options.out', opts.out, Float32Array, outLength);
  if (overlaps(out, images)) throw outOfRangeError('options.out', 'a buffer that does not overlap images', out);
  const threads = checkThreads(opts.threads, defaultThreads);
  return {
    images,
    n,
    h,
    w,
    c,
    views: normalized,
    viewTriples,
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
