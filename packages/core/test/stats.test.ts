import { bootstrapLiftInterval, mcnemarExact, mean, quantile, std } from '../src/stats';

describe('mcnemarExact (hand-worked)', () => {
  test('two-sided exact binomial tail on the discordant pairs', () => {
    expect(mcnemarExact(0, 0)).toBe(1);
    // n = 6, min = 1: 2 * (C(6,0) + C(6,1)) / 2^6 = 14/64
    expect(mcnemarExact(1, 5)).toBeCloseTo(14 / 64, 12);
    expect(mcnemarExact(5, 1)).toBeCloseTo(14 / 64, 12);
    // n = 12, min = 2: 2 * (1 + 12 + 66) / 4096
    expect(mcnemarExact(10, 2)).toBeCloseTo(158 / 4096, 12);
    // Balanced counts cannot be significant; the two-sided value is capped at 1.
    expect(mcnemarExact(3, 3)).toBe(1);
    // n = 20, min = 0: 2 / 2^20
    expect(mcnemarExact(0, 20)).toBeCloseTo(2 / 2 ** 20, 15);
  });

  test('large counts stay finite and monotone', () => {
    const p1 = mcnemarExact(400, 500);
    const p2 = mcnemarExact(400, 550);
    expect(p1).toBeGreaterThan(0);
    expect(p1).toBeLessThan(0.01);
    expect(p2).toBeLessThan(p1);
  });

  test('rejects bad counts', () => {
    expect(() => mcnemarExact(-1, 2)).toThrow(/non-negative integer for b/);
    expect(() => mcnemarExact(1, 2.5)).toThrow(/for c/);
  });
});

describe('bootstrapLiftInterval', () => {
  test('degenerate cases are exact', () => {
    const ones = new Uint8Array(50).fill(1);
    const zeros = new Uint8Array(50);
    expect(bootstrapLiftInterval(zeros, ones)).toEqual([1, 1]);
    expect(bootstrapLiftInterval(ones, ones)).toEqual([0, 0]);
  });

  test('covers the observed lift, is seeded, and narrows with more images', () => {
    const make = (n: number) => {
      const base = new Uint8Array(n);
      const tta = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        base[i] = i % 3 === 0 ? 1 : 0;
        tta[i] = i % 3 === 0 || i % 10 === 1 ? 1 : 0;
      }
      return [base, tta] as const;
    };
    const [b1, t1] = make(300);
    const lift = mean([...t1]) - mean([...b1]);
    const [lo, hi] = bootstrapLiftInterval(b1, t1, { seed: 4, resamples: 500 });
    expect(lo).toBeLessThanOrEqual(lift);
    expect(hi).toBeGreaterThanOrEqual(lift);
    expect(bootstrapLiftInterval(b1, t1, { seed: 4, resamples: 500 })).toEqual([lo, hi]);
    const [b2, t2] = make(3000);
    const [lo2, hi2] = bootstrapLiftInterval(b2, t2, { seed: 4, resamples: 500 });
    expect(hi2 - lo2).toBeLessThan(hi - lo);
    // The normal approximation: sd of the mean difference ~ sqrt(p(1-p)/n) for p = 1/15 here.
    const sd = Math.sqrt((lift * (1 - lift)) / 3000);
    expect(hi2 - lo2).toBeGreaterThan(2 * 1.96 * sd * 0.8);
    expect(hi2 - lo2).toBeLessThan(2 * 1.96 * sd * 1.2);
  });
});

test('mean, std (n - 1) and quantile', () => {
  expect(mean([1, 2, 3, 4])).toBe(2.5);
  expect(std([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
  expect(std([5])).toBe(0);
  expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
  expect(quantile([10, 20], 0.25)).toBe(12.5);
});
