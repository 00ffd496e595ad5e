import { invalidParameterError } from './errors';

/**
 * mulberry32: a small, fast 32-bit PRNG with good enough statistics for
 * shuffling and sampling. The one seeded PRNG of the repository: the same seed
 * gives the same sequence on every platform. Returns numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
    throw invalidParameterError('seed', 'a safe integer', seed);
  // Seeds below 2^32 are used as they are; higher bits (and the sign) are
  // mixed in so seeds that differ only there still give different sequences.
  let state = (seed ^ Math.imul(Math.floor(seed / 2 ** 32), 0x9e3779b9)) | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, bound) from a generator made by seededRandom. */
export function randomInt(random: () => number, bound: number): number {
  return Math.floor(random() * bound);
}

/** Fisher-Yates shuffle in place; returns the same array. */
export function shuffleInPlace<T extends { length: number; [index: number]: number } | unknown[]>(
  array: T,
  random: () => number,
): T {
  const items = array as unknown as unknown[];
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return array;
}
