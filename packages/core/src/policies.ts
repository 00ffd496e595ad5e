// TTA policies: which views to predict for each image and how to merge them.
import { readFileSync } from 'node:fs';
import { FILL_MODES, MERGE_MODES, type Fill, type Merge, type View } from '@tta/native';
import { TtaError, errorMessage, invalidParameterError, outOfRangeError, seededRandom } from '@tta/util';
import { checkLearnedWeights, type LearnedWeights } from './learned';

export const POLICY_NAMES = ['none', 'flip', 'flip-shift', 'keras-random'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export type PolicyView = View & { flip: boolean; dx: number; dy: number };

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
  seed?: number;
  fill?: Fill;
  merge?: Merge;
}

export const DEFAULT_RANDOM_VIEWS = 7;
export const DEFAULT_SHIFT = 2;

const ID: PolicyView = { flip: false, dx: 0, dy: 0 };
const FLIP: PolicyView = { flip: true, dx: 0, dy: 0 };

/** Forward passes per image that a policy costs (for a gated policy: when every image is gated). */
export function forwardPasses(policy: Policy): number {
  return policy.gate && !policy.views.some(isIdentity) ? policy.views.length + 1 : policy.views.length;
}

export function isIdentity(view: View | undefined): boolean {
  return view !== undefined && !view.flip && !view.dx && !view.dy;
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

/** A named policy: none, flip, flip-shift, keras-random. */
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

/**
 * Parses a short view spec: comma-separated views, each 'id' or '+'-joined parts
 * 'flip', 'dx=N', 'dy=N'. Example: 'id,flip,dx=2,dy=-1,flip+dx=-2'.
 */
export function parseViewSpec(spec: string): PolicyView[] {
  if (typeof spec !== 'string' || spec.trim() === '')
    throw invalidParameterError('views', "a view spec such as 'id,flip,dx=2'", spec);
  return spec.split(',').map((item, i) => {
    const view: PolicyView = { flip: false, dx: 0, dy: 0 };
    const text = item.trim();
    if (text === 'id' || text === 'identity') return view;
    for (const part of text.split('+')) {
      const p = part.trim();
      const shift = /^(dx|dy)=([+-]?\d+)$/.exec(p);
      if (p === 'flip') view.flip = true;
      else if (shift) view[shift[1] as 'dx' | 'dy'] = Number(shift[2]);
      else throw invalidParameterError(`views[${i}]`, "'id', or parts 'flip', 'dx=N', 'dy=N' joined by '+'", text);
    }
    return view;
  });
}

export function formatView(view: View): string {
  const parts: string[] = [];
  if (view.flip) parts.push('flip');
  if (view.dx) parts.push(`dx=${view.dx}`);
  if (view.dy) parts.push(`dy=${view.dy}`);
  return parts.length ? parts.join('+') : 'id';
}

export function formatViews(views: readonly View[]): string {
  return views.map(formatView).join(',');
}

/** A policy from a name, a view spec, or (with `file`) a JSON policy file. */
export function resolvePolicy(nameOrSpec: string, options: PolicyOptions = {}): Policy {
  if ((POLICY_NAMES as readonly string[]).includes(nameOrSpec)) return makePolicy(nameOrSpec, options);
  if (/^(id|identity|flip|dx=|dy=)/.test(nameOrSpec.trim())) {
    const fill = checkMode('fill', options.fill ?? 'nearest', FILL_MODES);
    const merge = checkMode('merge', options.merge ?? 'mean', MERGE_MODES);
    return { name: nameOrSpec, views: parseViewSpec(nameOrSpec), fill, merge };
  }
  return makePolicy(nameOrSpec, options);
}

/** The JSON form written by `tta tune` and read by `--policy-file`. */
export interface PolicyFile {
  name: string;
  views: string | View[];
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
      if (typeof v !== 'object' || v === null)
        throw invalidParameterError(`${source}.views[${i}]`, 'an object { flip?, dx?, dy? }', v);
      const o = v as Record<string, unknown>;
      const view = { flip: o.flip ?? false, dx: o.dx ?? 0, dy: o.dy ?? 0 };
      if (typeof view.flip !== 'boolean')
        throw invalidParameterError(`${source}.views[${i}].flip`, 'a boolean', view.flip);
      for (const key of ['dx', 'dy'] as const) {
        if (!Number.isInteger(view[key]))
          throw invalidParameterError(`${source}.views[${i}].${key}`, 'an integer', view[key]);
      }
      return view as PolicyView;
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
