import { seededRandom, shuffleInPlace } from '../src';

describe('seededRandom', () => {
  it('is deterministic per seed, differs between seeds, and stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const seqA = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(seqA);
    expect(Array.from({ length: 1000 }, c)).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = seqA.reduce((s, x) => s + x, 0) / seqA.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    // Pinned so every package (and every version) shuffles the same way for a seed.
    expect(seededRandom(1)()).toBeCloseTo(0.6270739405881613, 12);
    for (const [x, y] of [
      [2 ** 40, 0],
      [-1, 0],
      [-1, 2 ** 32 - 1],
      [2 ** 52 + 1, 1],
    ] as const) {
      expect(Array.from({ length: 3 }, seededRandom(x))).not.toEqual(Array.from({ length: 3 }, seededRandom(y)));
    }
    expect(() => seededRandom(1.5)).toThrow('Expected a safe integer for seed but received 1.5 of type number');
  });
  it('shuffles into a permutation', () => {
    const shuffled = shuffleInPlace(
      Array.from({ length: 50 }, (_, i) => i),
      seededRandom(3),
    );
    expect([...shuffled].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffled).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
