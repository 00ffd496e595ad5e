// What the model and CLI do with a split: float tensors, one-hot targets,
// seeded stratified splits and subsets, and a digest that identifies the data.
import { createHash } from 'node:crypto';
import { described, invalidParameterError, outOfRangeError, seededRandom, shuffleInPlace } from '@tta/util';
import { IMAGE_BYTES } from './interleave';
import type { Split } from './types';

function checkSplit(name: string, split: unknown): Split {
  const s = split as Split;
  if (
    typeof split !== 'object' ||
    split === null ||
    !(s.images instanceof Uint8Array) ||
    !(s.labels instanceof Uint8Array)
  ) {
    throw invalidParameterError(name, 'a Split ({ images: Uint8Array, labels: Uint8Array, count, ... })', split);
  }
  if (
    !Number.isSafeInteger(s.count) ||
    s.count < 0 ||
    s.images.length !== s.count * IMAGE_BYTES ||
    s.labels.length !== s.count
  ) {
    throw outOfRangeError(
      name,
      `a Split whose images hold count * ${IMAGE_BYTES} bytes and labels count entries`,
      described(`count ${s.count}, ${s.images.length} image bytes, ${s.labels.length} labels`),
    );
  }
  return s;
}

function checkRange(
  length: number,
  options: { start?: number; count?: number } | undefined,
): { start: number; count: number } {
  const start = options?.start ?? 0;
  if (!Number.isSafeInteger(start) || start < 0 || start > length)
    throw outOfRangeError('options.start', `an integer in [0, ${length}]`, start);
  const count = options?.count ?? length - start;
  if (!Number.isSafeInteger(count) || count < 0 || start + count > length)
    throw outOfRangeError('options.count', `an integer in [0, ${length - start}]`, count);
  return { start, count };
}

function checkOut(out: unknown, length: number): Float32Array {
  if (out === undefined) return new Float32Array(length);
  if (!(out instanceof Float32Array)) throw invalidParameterError('options.out', 'a Float32Array', out);
  if (out.length !== length) throw outOfRangeError('options.out', `a Float32Array of length ${length}`, out);
  return out;
}

const UINT8_SCALE = Math.fround(1 / 255);

/** Images [count, 32, 32, 3] as float32 in [0, 1]. */
export function toFloat32(
  split: Split,
  options?: { start?: number; count?: number; out?: Float32Array },
): Float32Array {
  const s = checkSplit('split', split);
  const { start, count } = checkRange(s.count, options);
  const out = checkOut(options?.out, count * IMAGE_BYTES);
  if (count === 0) return out;
  const images = s.images.subarray(start * IMAGE_BYTES, (start + count) * IMAGE_BYTES);
  // The product of a byte and a float32 is exact in double, so storing it rounds once:
  // the same float32 multiply as @tta/native's augment with scale 1/255.
  for (let i = 0; i < images.length; i++) out[i] = images[i]! * UINT8_SCALE;
  return out;
}

/** Labels [count] as one-hot rows [count, numClasses]. */
export function oneHot(
  labels: Uint8Array | Int32Array,
  numClasses: number,
  options?: { start?: number; count?: number; out?: Float32Array },
): Float32Array {
  if (!(labels instanceof Uint8Array) && !(labels instanceof Int32Array))
    throw invalidParameterError('labels', 'a Uint8Array or Int32Array', labels);
  if (!Number.isSafeInteger(numClasses) || numClasses < 1)
    throw outOfRangeError('numClasses', 'an integer >= 1', numClasses);
  const { start, count } = checkRange(labels.length, options);
  const out = checkOut(options?.out, count * numClasses);
  if (options?.out) out.fill(0);
  for (let i = 0; i < count; i++) {
    const label = labels[start + i] as number;
    if (!(label >= 0 && label < numClasses))
      throw outOfRangeError(`labels[${start + i}]`, `a class in [0, ${numClasses - 1}]`, label);
    out[i * numClasses + label] = 1;
  }
  return out;
}

function classCount(split: Split, numClasses: number | undefined): number {
  let max = -1;
  for (let i = 0; i < split.labels.length; i++) max = Math.max(max, split.labels[i] as number);
  if (numClasses === undefined) return max + 1;
  if (!Number.isSafeInteger(numClasses) || numClasses < 1)
    throw outOfRangeError('options.numClasses', 'an integer >= 1', numClasses);
  if (max >= numClasses)
    throw outOfRangeError('options.numClasses', `an integer > the largest label ${max}`, numClasses);
  return numClasses;
}

/** The records of each class, in order. */
function indicesByClass(labels: ArrayLike<number>, numClasses: number): Int32Array[] {
  const sizes = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) sizes[labels[i] as number]! += 1;
  const groups = Array.from(sizes, (size) => new Int32Array(size));
  const filled = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    (groups[label] as Int32Array)[filled[label]!++] = i;
  }
  return groups;
}

/**
 * How many of `total` to take from each class so every class keeps its share:
 * floors of the exact shares, then the leftover to the largest remainders
 * (ties to the lower class), so the quotas add up to exactly `total`.
 */
export function stratifiedQuotas(classSizes: readonly number[], total: number): number[] {
  const all = classSizes.reduce((a, b) => a + b, 0);
  const exact = classSizes.map((size) => (all === 0 ? 0 : (size * total) / all));
  const quotas = exact.map(Math.floor);
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const order = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of order) {
    if (left === 0) break;
    if ((quotas[index] as number) < (classSizes[index] as number)) {
      quotas[index]! += 1;
      left--;
    }
  }
  return quotas;
}

/** A seeded stratified choice of `total` records, as a mask over the labels. */
function stratifiedMask(labels: ArrayLike<number>, total: number, seed: number, numClasses: number): Uint8Array {
  const random = seededRandom(seed);
  const groups = indicesByClass(labels, numClasses);
  const quotas = stratifiedQuotas(
    groups.map((g) => g.length),
    total,
  );
  const mask = new Uint8Array(labels.length);
  groups.forEach((group, label) => {
    const shuffled = shuffleInPlace(Array.from(group), random);
    for (let i = 0; i < (quotas[label] as number); i++) mask[shuffled[i] as number] = 1;
  });
  return mask;
}

/** A new split of the given records, in the given order (copies). */
export function gather(split: Split, indices: ArrayLike<number>): Split {
  const count = indices.length;
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  const coarse = split.coarseLabels ? new Uint8Array(count) : undefined;
  const fine = split.fineLabels ? new Uint8Array(count) : undefined;
  for (let i = 0; i < count; i++) {
    const index = indices[i] as number;
    images.set(split.images.subarray(index * IMAGE_BYTES, (index + 1) * IMAGE_BYTES), i * IMAGE_BYTES);
    labels[i] = split.labels[index] as number;
    if (coarse) coarse[i] = split.coarseLabels![index] as number;
    if (fine) fine[i] = split.fineLabels![index] as number;
  }
  const result: Split = { images, labels, count, height: 32, width: 32, channels: 3 };
  if (coarse) result.coarseLabels = coarse;
  if (fine) result.fineLabels = fine;
  return result;
}

function maskIndices(mask: Uint8Array, value: number): Int32Array {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === value) n++;
  const out = new Int32Array(n);
  for (let i = 0, k = 0; i < mask.length; i++) if (mask[i] === value) out[k++] = i;
  return out;
}

function checkSeed(seed: unknown): number {
  if (seed === undefined) return 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
    throw invalidParameterError('options.seed', 'a safe integer', seed);
  return seed;
}

/**
 * Splits off a validation set with every class in proportion, the same for the
 * same seed. `validation` is a fraction in (0, 1) or a record count >= 1.
 * Both parts keep the original record order.
 */
export function trainValidationSplit(
  split: Split,
  options: { validation: number; seed?: number; numClasses?: number },
): { train: Split; validation: Split } {
  const s = checkSplit('split', split);
  if (typeof options !== 'object' || options === null)
    throw invalidParameterError('options', 'an object with validation', options);
  const { validation } = options;
  let total: number;
  if (typeof validation === 'number' && validation > 0 && validation < 1) total = Math.round(validation * s.count);
  else if (typeof validation === 'number' && Number.isSafeInteger(validation) && validation >= 1) total = validation;
  else throw outOfRangeError('options.validation', 'a fraction in (0, 1) or an integer count >= 1', validation);
  if (total < 1 || total >= s.count) {
    throw outOfRangeError(
      'options.validation',
      `a share leaving at least one record on each side of ${s.count} records`,
      validation,
    );
  }
  const mask = stratifiedMask(s.labels, total, checkSeed(options.seed), classCount(s, options.numClasses));
  return { train: gather(s, maskIndices(mask, 0)), validation: gather(s, maskIndices(mask, 1)) };
}

/**
 * The first `count` records (views into the split, no copy), or with
 * `stratified` a seeded choice keeping every class's share (a copy, in the
 * original order).
 */
export function subset(
  split: Split,
  options: { count: number; stratified?: boolean; seed?: number; numClasses?: number },
): Split {
  const s = checkSplit('split', split);
  if (typeof options !== 'object' || options === null)
    throw invalidParameterError('options', 'an object with count', options);
  const { count } = options;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > s.count) {
    throw outOfRangeError('options.count', `an integer in [0, ${s.count}]`, count);
  }
  if (options.stratified) {
    const mask = stratifiedMask(s.labels, count, checkSeed(options.seed), classCount(s, options.numClasses));
    return gather(s, maskIndices(mask, 1));
  }
  const result: Split = {
    images: s.images.subarray(0, count * IMAGE_BYTES),
    labels: s.labels.subarray(0, count),
    count,
    height: 32,
    width: 32,
    channels: 3,
  };
  if (s.coarseLabels) result.coarseLabels = s.coarseLabels.subarray(0, count);
  if (s.fineLabels) result.fineLabels = s.fineLabels.subarray(0, count);
  return result;
}

/** Records per class: counts[c] = records labelled c. */
export function classCounts(labels: Uint8Array | Int32Array, numClasses: number): Int32Array {
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (label < 0 || label >= numClasses)
      throw outOfRangeError(`labels[${i}]`, `a class in [0, ${numClasses - 1}]`, label);
    counts[label]! += 1;
  }
  return counts;
}

/** SHA-256 over the shape, images and labels: identifies exactly which data a model saw. */
export function splitChecksum(split: Split): string {
  const s = checkSplit('split', split);
  return createHash('sha256')
    .update(`tta-split-v1 ${s.count}x${s.height}x${s.width}x${s.channels}\n`)
    .update(s.images)
    .update(s.labels)
    .digest('hex');
}

/**
 * A seeded stratified split of records by their labels (any label array, e.g. an image
 * folder's): `count` records keep every class's share; both parts are in record order.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  count: number,
  seed = 0,
): { chosen: Int32Array; rest: Int32Array } {
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw invalidParameterError('labels', 'an array of class indices', labels);
  }
  if (!Number.isSafeInteger(count) || count < 0 || count > labels.length) {
    throw outOfRangeError('count', `an integer in [0, ${labels.length}]`, count);
  }
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0) throw outOfRangeError(`labels[${i}]`, 'a class index >= 0', label);
    max = Math.max(max, label);
  }
  const mask = stratifiedMask(labels, count, checkSeed(seed), max + 1);
  return { chosen: maskIndices(mask, 1), rest: maskIndices(mask, 0) };
}
