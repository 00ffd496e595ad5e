// Pure TypeScript implementations of augment and softVote: the oracle in tests and
// the baseline in benchmarks. Written for clarity, following the spec line by line;
// arithmetic matches the addon (float32 products, double accumulation) so that
// augment agrees bit for bit.
import type {
  AugmentOptions,
  Fill,
  ImageShape,
  PredictionShape,
  ResolvedView,
  SoftVoteOptions,
  SoftVoteResult,
  View,
} from './types';
import { invalidPredictionError, normalizeAugmentArgs, normalizeSoftVoteArgs } from './validate';

/** Maps coordinate p of the shifted image into [0, size), or -1 for 'constant'. */
export function sourceIndex(p: number, size: number, fill: Fill): number {
  if (p >= 0 && p < size) return p;
  switch (fill) {
    case 'constant':
      return -1;
    case 'nearest':
      return p < 0 ? 0 : size - 1;
    case 'reflect': {
      const period = 2 * size;
      const m = ((p % period) + period) % period;
      return m < size ? m : period - 1 - m;
    }
    case 'wrap':
      return ((p % size) + size) % size;
  }
}

/**
 * The continuous form of sourceIndex: pixel i covers [i - 0.5, i + 0.5]; a coordinate outside
 * [-0.5, size - 0.5] is reflected about the outer edges, wrapped, clamped, or (constant) undefined.
 */
export function mapCoordinate(u: number, size: number, fill: Fill): number | undefined {
  if (u >= -0.5 && u <= size - 0.5) return u;
  switch (fill) {
    case 'constant':
      return undefined;
    case 'nearest':
      return u < 0 ? 0 : size - 1;
    case 'reflect': {
      let m = (u + 0.5) % (2 * size);
      if (m < 0) m += 2 * size;
      return m < size ? m - 0.5 : 2 * size - m - 0.5;
    }
    case 'wrap': {
      let m = (u + 0.5) % size;
      if (m < 0) m += size;
      return m - 0.5;
    }
  }
}

/** Where a view's window sits in its crop: zoom z shows crop/z pixels around the crop's centre. */
export function viewWindow(view: ResolvedView): { top: number; left: number; height: number; width: number } {
  const height = view.crop.height / view.zoom;
  const width = view.crop.width / view.zoom;
  return { top: (view.crop.height - height) / 2, left: (view.crop.width - width) / 2, height, width };
}

/** Samples of one axis: [lo, hi, weight] source indices (inside the crop) or undefined for the constant fill. */
function axisSample(
  r: number,
  outSize: number,
  windowStart: number,
  windowSize: number,
  cropSize: number,
  fill: Fill,
  exact: boolean,
): [number, number, number] | undefined {
  if (exact) {
    const i = sourceIndex(windowStart + r, cropSize, fill);
    return i < 0 ? undefined : [i, i, 0];
  }
  // tf.image.resize 'bilinear' with half-pixel centres; the neighbours are clamped to the crop.
  const mapped = mapCoordinate(windowStart + (r + 0.5) * (windowSize / outSize) - 0.5, cropSize, fill);
  if (mapped === undefined) return undefined;
  const u = Math.min(Math.max(mapped, 0), cropSize - 1);
  const i0 = Math.floor(u);
  return [i0, Math.min(i0 + 1, cropSize - 1), Math.fround(u - i0)];
}

export function augmentReference(
  images: Float32Array | Uint8Array,
  shape: ImageShape,
  views: readonly View[],
  options?: AugmentOptions,
): Float32Array {
  const a = normalizeAugmentArgs(images, shape, views, options, 1);
  const { n, h, w, c, outHeight: oh, outWidth: ow, views: vs, fill, scale, offset, reverseChannels, out } = a;
  const fillValue = Math.fround(a.cval);
  const f = Math.fround;
  let o = 0;
  for (const view of vs) {
    const win = viewWindow(view);
    // A window exactly the output's size at whole pixels is copied, not interpolated.
    const exact = win.height === oh && win.width === ow && Number.isInteger(win.top) && Number.isInteger(win.left);
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          // Undo, in reverse order: the shift, the rotation, the flips.
          const py = sourceIndex(y - view.dy, oh, fill);
          const px = sourceIndex(x - view.dx, ow, fill);
          let a = py;
          let b = px;
          if (view.rotate === 90) [a, b] = [px, ow - 1 - py];
          else if (view.rotate === 180) [a, b] = [oh - 1 - py, ow - 1 - px];
          else if (view.rotate === 270) [a, b] = [oh - 1 - px, py];
          if (view.vflip) a = oh - 1 - a;
          if (view.flip) b = ow - 1 - b;
          const rs =
            py < 0 || px < 0 ? undefined : axisSample(a, oh, win.top, win.height, view.crop.height, fill, exact);
          const cs =
            py < 0 || px < 0 ? undefined : axisSample(b, ow, win.left, win.width, view.crop.width, fill, exact);
          for (let k = 0; k < c; k++) {
            if (rs === undefined || cs === undefined) {
              out[o++] = fillValue;
              continue;
            }
            const channel = reverseChannels ? c - 1 - k : k;
            const pixel = (row: number, col: number): number =>
              images[((i * h + view.crop.top + row) * w + view.crop.left + col) * c + channel]!;
            let value: number;
            if (exact) value = pixel(rs[0], cs[0]);
            else {
              // Columns first, then rows, in float32: a + (b - a) * t.
              const lerp = (p: number, q: number, t: number): number => f(p + f(f(q - p) * t));
              const top = lerp(pixel(rs[0], cs[0]), pixel(rs[0], cs[1]), cs[2]);
              const bottom = lerp(pixel(rs[1], cs[0]), pixel(rs[1], cs[1]), cs[2]);
              value = lerp(top, bottom, rs[2]);
            }
            out[o++] = preprocess(value, scale[k]!, offset[k]!);
          }
        }
      }
    }
  }
  return out;
}

/** float32(float32(value * scale) + offset), every operand a float32. */
export function preprocess(value: number, scale: number, offset: number): number {
  return Math.fround(Math.fround(value * scale) + offset);
}

export function softVoteReference(
  predictions: Float32Array,
  shape: PredictionShape,
  options?: SoftVoteOptions,
): SoftVoteResult {
  const a = normalizeSoftVoteArgs(predictions, shape, options, 1);
  const { views: V, n: N, classes: K, merge, weights, scores, labels } = a;
  for (let index = 0; index < predictions.length; index++) {
    const p = predictions[index]!;
    if (!Number.isFinite(p) || (merge === 'gmean' && p < 0)) throw invalidPredictionError(a, index);
  }
  let weightSum = 0;
  for (const w of weights) weightSum += w;
  const acc = new Float64Array(K);
  const mean = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    acc.fill(merge === 'max' ? -Infinity : 0);
    mean.fill(0);
    for (let v = 0; v < V; v++) {
      const w = weights[v]!;
      if (w === 0) continue;
      const base = (v * N + i) * K;
      if (merge === 'vote') {
        let best = 0;
        for (let k = 1; k < K; k++) if (predictions[base + k]! > predictions[base + best]!) best = k;
        acc[best]! += w;
      }
      for (let k = 0; k < K; k++) {
        const p = predictions[base + k]!;
        if (merge === 'mean' || merge === 'sum') acc[k]! += w * p;
        else if (merge === 'gmean') acc[k]! += w * Math.log(p);
        else if (merge === 'max') acc[k] = Math.max(acc[k]!, p);
        else mean[k]! += w * p;
      }
    }
    for (let k = 0; k < K; k++) {
      let value = acc[k]!;
      if (merge === 'mean' || merge === 'vote') value /= weightSum;
      if (merge === 'gmean') value = Math.exp(value / weightSum);
      scores[i * K + k] = value;
    }
    let best = 0;
    for (let k = 1; k < K; k++) {
      const sk = scores[i * K + k]!;
      const sb = scores[i * K + best]!;
      if (sk > sb || (merge === 'vote' && sk === sb && mean[k]! > mean[best]!)) best = k;
    }
    labels[i] = best;
  }
  return { scores, labels };
}
