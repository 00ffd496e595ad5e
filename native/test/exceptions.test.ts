// A C++ exception inside a parallel region, on a pool worker or the calling thread,
// becomes a JavaScript error (or a rejected promise) and leaves the pool working.
import { binding } from '../lib/binding';
import { augment } from '../lib';

const { parallelForThrows, parallelForThrowsAsync } = binding.testing;
const KINDS = [
  [0, /native: range \d+-\d+ failed|range \d+-\d+ failed/],
  [1, /bad_alloc|bad allocation/],
  [2, /unknown exception|A native exception was thrown/],
] as const;

function poolStillWorks(): void {
  const out = augment(new Uint8Array(64 * 8 * 8).fill(7), [64, 8, 8, 1], [{}, { flip: true }], { threads: 4 });
  expect(out.every((v) => v === 7)).toBe(true);
}

describe.each(KINDS)('an exception of kind %i', (kind, message) => {
  test.each([0, 1000, 1999])('thrown by the range holding item %i (first range, a middle one, the last)', (throwAt) => {
    expect(() => parallelForThrows(2000, 4, throwAt, kind)).toThrow(message);
    poolStillWorks();
  });

  test('thrown inside an async worker rejects its promise', async () => {
    await expect(parallelForThrowsAsync(2000, 4, 1500, kind)).rejects.toThrow(message);
    poolStillWorks();
  });
});

test('concurrent failing async calls all reject, and later calls succeed', async () => {
  const calls = Array.from({ length: 8 }, (_, i) =>
    parallelForThrowsAsync(1000, 2, (i * 97) % 1000, (i % 3) as 0 | 1 | 2),
  );
  const results = await Promise.allSettled(calls);
  expect(results.every((r) => r.status === 'rejected')).toBe(true);
  poolStillWorks();
});
