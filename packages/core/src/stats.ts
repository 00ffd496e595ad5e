// Paired statistics for "does TTA help on this model": exact McNemar test on the
// discordant pairs and a paired bootstrap interval for the accuracy lift.
import { outOfRangeError, seededRandom } from '@tta/util';

/** log(n!) by summation, cached; exact enough for the binomial tails below. */
const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials[i] = logFactorials[i - 1]! + Math.log(i);
  return logFactorials[n]!;
}

/** P(X = k) for X ~ Binomial(n, 1/2). */
function binomialHalfPmf(n: number, k: number): number {
  return Math.exp(logFactorial(n) - logFactorial(k) - logFactorial(n - k) - n * Math.LN2);
}

/**
 * Two-sided exact McNemar test: b and c are the discordant counts (baseline
 * right/TTA wrong, baseline wrong/TTA right). Under H0 each discordant pair is a
 * fair coin, so p = min(1, 2 P(X <= min(b, c))) with X ~ Binomial(b + c, 1/2).
 */
export function mcnemarExact(b: number, c: number): number {
  for (const [name, v] of [
    ['b', b],
    ['c', c],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw outOfRangeError(name, 'a non-negative integer', v);
  }
  const n = b + c;
  if (n === 0) return 1;
  const low = Math.min(b, c);
  let tail = 0;
  for (let k = 0; k <= low; k++) tail += binomialHalfPmf(n, k);
  return Math.min(1, 2 * tail);
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function std(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** The q-quantile (0..1) of sorted values, linear interpolation (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo);
}

/**
 * Paired bootstrap 95% interval for mean(tta) - mean(base), where both are 0/1
 * correctness per image: resample images with replacement, keep pairs together.
 */
export function bootstrapLiftInterval(
  baseCorrect: Uint8Array,
  ttaCorrect: Uint8Array,
  options: { resamples?: number; seed?: number; level?: number } = {},
): [number, number] {
  if (baseCorrect.length !== ttaCorrect.length)
    throw outOfRangeError(
      'ttaCorrect',
      `an array of the same length as baseCorrect (${baseCorrect.length})`,
      ttaCorrect,
    );
  const n = baseCorrect.length;
  if (n === 0) return [0, 0];
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const random = seededRandom(options.seed ?? 0);
  // Only the per-image difference matters: -1, 0 or +1.
  const diff = new Int8Array(n);
  for (let i = 0; i < n; i++) diff[i] = ttaCorrect[i]! - baseCorrect[i]!;
  const lifts = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += diff[Math.floor(random() * n)]!;
    lifts[r] = sum / n;
  }
  lifts.sort();
  return [quantile(lifts, (1 - level) / 2), quantile(lifts, 1 - (1 - level) / 2)];
}
