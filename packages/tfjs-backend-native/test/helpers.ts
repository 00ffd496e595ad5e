// Test helpers: a seeded generator (@tta/util's) so that failures reproduce.
export { seededRandom as rng } from '@tta/util';

/** An integer in [lo, hi]. */
export function randomInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}
