// TTA policies: which views to predict for each image and how to merge them.
import { readFileSync } from 'node:fs';
import {
  CROP_POSITIONS,
  FILL_MODES,
  MERGE_MODES,
  ROTATIONS,
  type CropBox,
  type CropPosition,
  type Fill,
  type Merge,
  type Rotation,
  type View,
} from '@tta/native';
import { TtaError, errorMessage, invalidParameterError, outOfRangeError, seededRandom } from '@tta/util';
import { checkLearnedWeights, type LearnedWeights } from './learned';

export const POLICY_NAMES = [
  'none',
  'flip',
  'flip-shift',
  'keras-random',
  'd4',
  'five-crop',
  'ten-crop',
  'multiscale',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/**
 * A crop in a policy: a box, or a named crop whose size may be left out, meaning the
 * classifier's input size (the engine fills it in: five 224 crops of 256-pixel images).
 */
export type PolicyCrop = CropBox | { position: CropPosition; size?: number | readonly [number, number] };

/** A view as policies hold it (see @tta/native's View); flip, dx and dy always set. */
export type PolicyView = Omit<View, 'crop'> & { flip: boolean; dx: number; dy: number; crop?: PolicyCrop };

/** softVote's merges, and 'learned': log-linear pooling with weights fitted on validation data (see learned.ts). */
export type PolicyMerge = Merge | 'learned';
export const POLICY_MERGES: readonly PolicyMerge[] = [...MERGE_MODES, 'learned'];

export interface Policy {
  /** Shown in tables and JSON. */
  name: string;
  /** The distinct views that are predicted (one forward pass each per image). */
  views: PolicyView[];
  /** One weight per view for softVote (default all 1). */
  weights?: number[];
  fill: Fill;
  merge: PolicyMerge;
  /** merge 'learned': the fitted weights (one per view, or per view and class). */
  learned?: LearnedWeights;
  /** Temperature fitted on validation NLL: merged scores become softmax(log p / T). Never changes a label. */
  temperature?: number;
  /**
   * keras-random: each image gets `draws` views, each flipped with probability 1/2,
   * drawn from a seeded generator per image (as the tutorial's generator does).
   * Only two distinct views exist (identity and flip), so they are predicted once
   * and merged with per-image weights (draws - k, k): the same result as `draws`
   * forward passes, at the cost of two.
   */
  random?: { draws: number; seed: number };
  /**
   * Confidence-gated TTA: predict the identity view first, and augment only the
   * images whose top-1 minus top-2 probability is below `margin`; the others keep
   * their plain prediction.
   */
  gate?: { margin: number };
}

export interface PolicyOptions {
  /** keras-random: views per image (default 7). */
  views?: number;
  /** flip-shift: shift size in pixels (default 2). */
  shift?: number;
  /** five-crop, ten-crop: crop size in pixels (default the classifier's input size). */
  cropSize?: number;
  /** multiscale: the zoom factors besides 1 (default 0.9 and 1.1). */
  zooms?: number[];
  seed?: number;
  fill?: Fill;
  merge?: Merge;
}

export const DEFAULT_RANDOM_VIEWS = 7;
export const DEFAULT_SHIFT = 2;
export const DEFAULT_ZOOMS: readonly number[] = [0.9, 1.1];

const ID: PolicyView = { flip: false, dx: 0, dy: 0 };
const FLIP: PolicyView = { flip: true, dx: 0, dy: 0 };

/** Forward passes per image that a policy costs (for a gated policy: when every image is gated). */
export function forwardPasses(policy: Policy): number {
  return policy.gate && !policy.views.some(isIdentity) ? policy.views.length + 1 : policy.views.length;
}

export function isIdentity(view: PolicyView | View | undefined): boolean {
  return (
    view !== undefined &&
    !view.flip &&
    !view.vflip &&
    !view.rotate &&
    view.crop === undefined &&
    (view.zoom ?? 1) === 1 &&
    !view.dx &&
    !view.dy
  );
}

/** Whether the fill mode can change a view's pixels: shifts, and zooms below 1 (the padding). */
export function usesFill(view: PolicyView): boolean {
  return !!view.dx || !!view.dy || (view.zoom ?? 1) < 1;
}

/** The eight views of the dihedral group: four quarter turns, each also flipped (ttach's d4). */
export function d4Views(): PolicyView[] {
  return ROTATIONS.flatMap((rotate) => [false, true].map((flip) => view({ flip, ...(rotate ? { rotate } : {}) })));
}

/** The five named crops (centre first) of `size` pixels, or the classifier's input size. */
export function fiveCropViews(size?: number): PolicyView[] {
  const positions: CropPosition[] = ['center', 'top-left', 'top-right', 'bottom-left', 'bottom-right'];
  return positions.map((position) => view({ crop: size === undefined ? { position } : { position, size } }));
}

/** Zoom 1 and each zoom factor, each also flipped. */
export function multiscaleViews(zooms: readonly number[] = DEFAULT_ZOOMS): PolicyView[] {
  return [1, ...zooms].flatMap((zoom) => [false, true].map((flip) => view({ flip, ...(zoom !== 1 ? { zoom } : {}) })));
}

function view(parts: Partial<PolicyView>): PolicyView {
  return { flip: false, dx: 0, dy: 0, ...parts };
}

/** Top-1 minus top-2 probability of each row of [n, classes]. */
export function margins(probabilities: Float32Array, classes: number): Float32Array {
  const n = probabilities.length / classes;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let first = -Infinity;
    let second = -Infinity;
    for (let k = 0; k < classes; k++) {
      const p = probabilities[i * classes + k]!;
      if (p > first) {
        second = first;
        first = p;
      } else if (p > second) second = p;
    }
    out[i] = classes > 1 ? first - second : 1;
  }
  return out;
}

/** Views per image as the user counts them (keras-random's draws). */
export function nominalViews(policy: Policy): number {
  return policy.random?.draws ?? policy.views.length;
}

function checkMode<T extends string>(name: string, value: unknown, valid: readonly T[]): T {
  if (!valid.includes(value as T)) throw invalidParameterError(name, `one of ${valid.join(', ')}`, value);
  return value as T;
}

function positiveInteger(name: string, value: unknown, max = 1024): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw outOfRangeError(name, `an integer between 1 and ${max}`, value);
  }
  return value;
}

/** A named policy: none, flip, flip-shift, keras-random, d4, five-crop, ten-crop, multiscale. */
export function makePolicy(name: string, options: PolicyOptions = {}): Policy {
  const fill = checkMode('fill', options.fill ?? 'nearest', FILL_MODES);
  const merge = checkMode('merge', options.merge ?? 'mean', MERGE_MODES);
  switch (name) {
    case 'none':
      return { name, views: [ID], fill, merge };
    case 'flip':
      return { name, views: [ID, FLIP], fill, merge };
    case 'flip-shift': {
      const s = positiveInteger('shift', options.shift ?? DEFAULT_SHIFT);
      const shifts: [number, number][] = [
        [s, 0],
        [-s, 0],
        [0, s],
        [0, -s],
      ];
      const views: PolicyView[] = [ID, FLIP];
      for (const flip of [false, true]) for (const [dx, dy] of shifts) views.push({ flip, dx, dy });
      return { name, views, fill, merge };
    }
    case 'd4':
      return { name, views: d4Views(), fill, merge };
    case 'five-crop':
    case 'ten-crop': {
      const size = options.cropSize === undefined ? undefined : positiveInteger('cropSize', options.cropSize, 65536);
      const crops = fiveCropViews(size);
      const views = name === 'five-crop' ? crops : [...crops, ...crops.map((v) => ({ ...v, flip: true }))];
      return { name, views, fill, merge };
    }
    case 'multiscale': {
      const zooms = options.zooms ?? DEFAULT_ZOOMS;
      if (!Array.isArray(zooms) || zooms.length === 0) throw invalidParameterError('zooms', 'a non-empty array', zooms);
      zooms.forEach((z, i) => checkZoom(`zooms[${i}]`, z));
      return { name, views: multiscaleViews(zooms), fill, merge };
    }
    case 'keras-random': {
      const draws = positiveInteger('views', options.views ?? DEFAULT_RANDOM_VIEWS);
      const seed = options.seed ?? 0;
      if (!Number.isSafeInteger(seed)) throw invalidParameterError('seed', 'a safe integer', seed);
      return { name, views: [ID, FLIP], fill, merge, random: { draws, seed } };
    }
    default:
      throw invalidParameterError(
        'policy',
        `one of ${POLICY_NAMES.join(', ')} (or a view spec such as 'id,flip,dx=2')`,
        name,
      );
  }
}

function checkZoom(name: string, zoom: unknown): number {
  if (typeof zoom !== 'number' || !(zoom >= 0.001 && zoom <= 1000))
    throw outOfRangeError(name, 'a zoom factor between 0.001 and 1000', zoom);
  return zoom;
}

const VIEW_PARTS =
  "'id', or parts 'flip', 'vflip', 'rot=90|180|270', 'zoom=F', 'crop=POSITION[:SIZE]' (center, top-left, top-right, bottom-left, bottom-right; SIZE N or HxW), 'crop=TOP:LEFT:HEIGHT:WIDTH', 'dx=N', 'dy=N' joined by '+'";

/**
 * Parses a short view spec: comma-separated views, each 'id' or '+'-joined parts 'flip',
 * 'vflip', 'rot=90', 'zoom=1.1', 'crop=center:224' (a named crop without a size takes the
 * classifier's input size), 'crop=16:16:224:224' (top:left:height:width), 'dx=N', 'dy=N'.
 * Example: 'id,flip,dx=2,rot=90+flip,crop=center:224+zoom=1.1'.
 */
export function parseViewSpec(spec: string): PolicyView[] {
  if (typeof spec !== 'string' || spec.trim() === '')
    throw invalidParameterError('views', "a view spec such as 'id,flip,dx=2'", spec);
  return spec.split(',').map((item, i) => {
    const result: PolicyView = view({});
    const text = item.trim();
    if (text === 'id' || text === 'identity') return result;
    const bad = (): never => {
      throw invalidParameterError(`views[${i}]`, VIEW_PARTS, text);
    };
    for (const part of text.split('+')) {
      const p = part.trim();
      const shift = /^(dx|dy)=([+-]?\d+)$/.exec(p);
      const rot = /^rot=(\d+)$/.exec(p);
      const zoom = /^zoom=(\d*\.?\d+(?:e[+-]?\d+)?)$/i.exec(p);
      const crop = /^crop=(.+)$/.exec(p);
      if (p === 'flip' || p === 'hflip') result.flip = true;
      else if (p === 'vflip') result.vflip = true;
      else if (shift) result[shift[1] as 'dx' | 'dy'] = Number(shift[2]);
      else if (rot) {
        const degrees = Number(rot[1]);
        if (!ROTATIONS.includes(degrees as Rotation))
          throw outOfRangeError(`views[${i}] rot`, `one of ${ROTATIONS.join(', ')}`, degrees);
        if (degrees) result.rotate = degrees as Rotation;
      } else if (zoom) {
        const factor = checkZoom(`views[${i}] zoom`, Number(zoom[1]));
        if (factor !== 1) result.zoom = factor;
      } else if (crop) result.crop = parseCrop(crop[1]!, `views[${i}] crop`) ?? bad();
      else bad();
    }
    return result;
  });
}

function parseCrop(text: string, name: string): PolicyCrop | undefined {
  const [first, ...rest] = text.split(':');
  if (CROP_POSITIONS.includes(first as CropPosition)) {
    if (rest.length === 0) return { position: first as CropPosition };
    const size = rest.length === 1 ? /^(\d+)(?:x(\d+))?$/.exec(rest[0]!) : null;
    if (!size) return undefined;
    const height = Number(size[1]);
    const width = size[2] === undefined ? height : Number(size[2]);
    if (height < 1 || width < 1) throw outOfRangeError(`${name} size`, 'at least 1 pixel', rest[0]);
    return { position: first as CropPosition, size: height === width ? height : [height, width] };
  }
  const box = text.split(':');
  if (box.length !== 4 || box.some((v) => !/^\d+$/.test(v))) return undefined;
  const [top, left, height, width] = box.map(Number) as [number, number, number, number];
  if (height < 1 || width < 1) throw outOfRangeError(`${name} height and width`, 'at least 1 pixel', text);
  return { top, left, height, width };
}

function formatCrop(crop: PolicyCrop): string {
  if ('position' in crop) {
    if (crop.size === undefined) return crop.position;
    const [h, w] = typeof crop.size === 'number' ? [crop.size, crop.size] : crop.size;
    return `${crop.position}:${h === w ? h : `${h}x${w}`}`;
  }
  return `${crop.top}:${crop.left}:${crop.height}:${crop.width}`;
}

/** The spec of one view, its parts in the order they are applied. */
export function formatView(view: PolicyView | View): string {
  const parts: string[] = [];
  if (view.crop) parts.push(`crop=${formatCrop(view.crop)}`);
  if (view.zoom !== undefined && view.zoom !== 1) parts.push(`zoom=${view.zoom}`);
  if (view.flip) parts.push('flip');
  if (view.vflip) parts.push('vflip');
  if (view.rotate) parts.push(`rot=${view.rotate}`);
  if (view.dx) parts.push(`dx=${view.dx}`);
  if (view.dy) parts.push(`dy=${view.dy}`);
  return parts.length ? parts.join('+') : 'id';
}

export function formatViews(views: readonly (PolicyView | View)[]): string {
  return views.map(formatView).join(',');
}

/**
 * The views augment() takes for a classifier of `inputShape` ([h, w, ...]): named crops
 * without a size get the input's size.
 */
export function viewsForInput(views: readonly PolicyView[], inputShape: readonly number[]): View[] {
  const [h, w] = inputShape as [number, number];
  return views.map((v) =>
    v.crop && 'position' in v.crop && v.crop.size === undefined
      ? { ...v, crop: { position: v.crop.position, size: [h, w] as const } }
      : (v as View),
  );
}

/** A policy from a name, a view spec, or (with `file`) a JSON policy file. */
export function resolvePolicy(nameOrSpec: string, options: PolicyOptions = {}): Policy {
  if ((POLICY_NAMES as readonly string[]).includes(nameOrSpec)) return makePolicy(nameOrSpec, options);
  if (/^(id|identity|flip|hflip|vflip|rot=|zoom=|crop=|dx=|dy=)/.test(nameOrSpec.trim())) {
    const fill = checkMode('fill', options.fill ?? 'nearest', FILL_MODES);
    const merge = checkMode('merge', options.merge ?? 'mean', MERGE_MODES);
    return { name: nameOrSpec, views: parseViewSpec(nameOrSpec), fill, merge };
  }
  return makePolicy(nameOrSpec, options);
}

/** The JSON form written by `tta tune` and read by `--policy-file`. */
export interface PolicyFile {
  name: string;
  views: string | PolicyView[];
  weights?: number[];
  fill?: Fill;
  merge?: PolicyMerge;
  learned?: LearnedWeights;
  temperature?: number;
  random?: { draws: number; seed: number };
  gate?: { margin: number };
}

export function policyToJson(policy: Policy): PolicyFile {
  const json: PolicyFile = {
    name: policy.name,
    views: formatViews(policy.views),
    fill: policy.fill,
    merge: policy.merge,
  };
  if (policy.weights) json.weights = [...policy.weights];
  if (policy.learned) json.learned = { shape: policy.learned.shape, weights: [...policy.learned.weights] };
  if (policy.temperature !== undefined) json.temperature = policy.temperature;
  if (policy.random) json.random = { ...policy.random };
  if (policy.gate) json.gate = { ...policy.gate };
  return json;
}

export function policyFromJson(json: unknown, source = 'policy'): Policy {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw invalidParameterError(source, 'a JSON object', json);
  const j = json as Record<string, unknown>;
  const name = typeof j.name === 'string' && j.name ? j.name : 'custom';
  let views: PolicyView[];
  if (typeof j.views === 'string') views = parseViewSpec(j.views);
  else if (Array.isArray(j.views) && j.views.length > 0) {
    views = j.views.map((v: unknown, i) => {
      const name = `${source}.views[${i}]`;
      if (typeof v !== 'object' || v === null)
        throw invalidParameterError(name, 'an object { flip?, vflip?, rotate?, crop?, zoom?, dx?, dy? }', v);
      const o = v as Record<string, unknown>;
      const result = { flip: o.flip ?? false, dx: o.dx ?? 0, dy: o.dy ?? 0 } as PolicyView;
      for (const key of ['flip', 'vflip'] as const) {
        if (o[key] !== undefined && typeof o[key] !== 'boolean')
          throw invalidParameterError(`${name}.${key}`, 'a boolean', o[key]);
      }
      for (const key of ['dx', 'dy'] as const) {
        if (!Number.isInteger(result[key])) throw invalidParameterError(`${name}.${key}`, 'an integer', result[key]);
      }
      if (o.vflip) result.vflip = true;
      if (o.rotate !== undefined) {
        if (!ROTATIONS.includes(o.rotate as Rotation))
          throw invalidParameterError(`${name}.rotate`, `one of ${ROTATIONS.join(', ')}`, o.rotate);
        if (o.rotate) result.rotate = o.rotate as Rotation;
      }
      if (o.zoom !== undefined && checkZoom(`${name}.zoom`, o.zoom) !== 1) result.zoom = o.zoom as number;
      if (o.crop !== undefined) {
        const crop = typeof o.crop === 'string' ? parseCrop(o.crop, `${name}.crop`) : undefined;
        if (!crop) throw invalidParameterError(`${name}.crop`, "a crop spec such as 'center:224'", o.crop);
        result.crop = crop;
      }
      return result;
    });
  } else throw invalidParameterError(`${source}.views`, 'a view spec string or a non-empty array of views', j.views);
  const fill = checkMode(`${source}.fill`, j.fill ?? 'nearest', FILL_MODES);
  const merge = checkMode(`${source}.merge`, j.merge ?? 'mean', POLICY_MERGES);
  const policy: Policy = { name, views, fill, merge };
  if (merge === 'learned') {
    policy.learned = checkLearnedWeights(j.learned, views.length, undefined, `${source}.learned`);
    if (j.weights !== undefined || j.random !== undefined)
      throw invalidParameterError(`${source}.merge`, "no 'weights' or 'random' with a learned merge", j.merge);
  } else if (j.learned !== undefined) {
    throw invalidParameterError(`${source}.learned`, "learned weights only with merge 'learned'", j.learned);
  }
  if (j.temperature !== undefined) {
    if (typeof j.temperature !== 'number' || !(j.temperature > 0) || !Number.isFinite(j.temperature))
      throw outOfRangeError(`${source}.temperature`, 'a finite number > 0', j.temperature);
    policy.temperature = j.temperature;
  }
  if (j.weights !== undefined) {
    if (
      !Array.isArray(j.weights) ||
      j.weights.length !== views.length ||
      j.weights.some((w) => typeof w !== 'number' || !(w >= 0))
    ) {
      throw invalidParameterError(`${source}.weights`, `${views.length} non-negative numbers`, j.weights);
    }
    policy.weights = j.weights as number[];
  }
  if (j.random !== undefined) {
    const r = j.random as Record<string, unknown>;
    policy.random = {
      draws: positiveInteger(`${source}.random.draws`, r?.draws),
      seed: Number.isSafeInteger(r?.seed) ? (r.seed as number) : 0,
    };
    if (views.length !== 2 || views[0]!.flip || !views[1]!.flip) {
      throw invalidParameterError(`${source}.views`, "'id,flip' for a random policy", j.views);
    }
  }
  if (j.gate !== undefined) {
    const margin = (j.gate as Record<string, unknown> | null)?.margin;
    if (typeof margin !== 'number' || !(margin >= 0 && margin <= 1)) {
      throw invalidParameterError(`${source}.gate.margin`, 'a number between 0 and 1', margin);
    }
    if (policy.random) throw invalidParameterError(`${source}.gate`, 'no gate on a random policy', j.gate);
    policy.gate = { margin };
  }
  return policy;
}

export function loadPolicyFile(file: string): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TtaError('TTA_IO', `Cannot read the policy file ${file}: ${errorMessage(error)}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TtaError('TTA_INVALID_FILE', `The policy file ${file} is not valid JSON: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return policyFromJson(json, file);
}

/**
 * keras-random's per-image flip counts: for image i, how many of the `draws` views
 * are flipped. Image i's draws come from seed (seed, i), so a result does not
 * depend on chunking or on which other images are evaluated.
 */
export function randomFlipCounts(
  random: { draws: number; seed: number },
  start: number,
  count: number,
): Uint8Array | Uint16Array {
  return randomFlipCountsOf(
    random,
    Int32Array.from({ length: count }, (_, i) => start + i),
  );
}

/** randomFlipCounts for the images at these indices (a stream may have left some out). */
export function randomFlipCountsOf(
  random: { draws: number; seed: number },
  indices: ArrayLike<number>,
): Uint8Array | Uint16Array {
  const counts = random.draws < 256 ? new Uint8Array(indices.length) : new Uint16Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const next = seededRandom((Math.abs(random.seed) % 2 ** 26) * 2 ** 26 + (indices[i]! % 2 ** 26));
    let flipped = 0;
    for (let d = 0; d < random.draws; d++) if (next() < 0.5) flipped++;
    counts[i] = flipped;
  }
  return counts;
}
