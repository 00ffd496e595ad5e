// Pure TypeScript implementations of augment and softVote: the oracle in tests and
// the baseline in benchmarks. Written for clarity, following the spec line by line;
// arithmetic matches the addon (float32 products, double accumulation) so that
// augment agrees bit for bit.
import type { AugmentOptions, Fill, ImageShape, PredictionShape, SoftVoteOptions, SoftVoteResult, View } from './types';
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

export function augmentReference(
  images: Float32Array | Uint8Array,
  shape: ImageShape,
  views: readonly View[],
  options?: AugmentOptions,
): Float32Array {
  const a = normalizeAugmentArgs(images, shape, views, options, 1);
  const { n, h, w, c, views: vs, fill, scale, offset, reverseChannels, out } = a;
  const fillValue = Math.fround(a.cval);
  let o = 0;
  for (const view of vs) {
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < h; y++) {
        const sy = sourceIndex(y - view.dy, h, fill);
        for (let x = 0; x < w; x++) {
          let sx = sourceIndex(x - view.dx, w, fill);
          if (sx >= 0 && view.flip) sx = w - 1 - sx;
          for (let k = 0; k < c; k++) {
            if (sy < 0 || sx < 0) {
              out[o++] = fillValue;
              continue;
            }
            const value = images[((i * h + sy) * w + sx) * c + (reverseChannels ? c - 1 - k : k)]!;
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
