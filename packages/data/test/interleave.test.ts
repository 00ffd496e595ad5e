import { IMAGE_BYTES, createInterleaveMemory } from '../src/interleave';
import { makeRecords, naiveNhwc } from './helpers';

describe('interleave (wasm SIMD planar -> NHWC, in place)', () => {
  it.each([
    [1, 1],
    [2, 1],
    [1, 7],
    [2, 33],
  ])('matches the naive conversion for %i label byte(s), %i records', (labelBytes, count) => {
    const records = makeRecords(count, (r) => Array.from({ length: labelBytes }, (_, i) => (r + i) % 10), count);
    const stride = IMAGE_BYTES + labelBytes;
    const memory = createInterleaveMemory(count, count * labelBytes);
    memory.bytes.set(records, 0);
    memory.interleave(labelBytes, 0, count, stride);
    expect(
      Buffer.from(memory.bytes.subarray(0, count * IMAGE_BYTES)).equals(Buffer.from(naiveNhwc(records, labelBytes))),
    ).toBe(true);
  });

  it('converts several files placed one after another in the same memory', () => {
    const first = makeRecords(5, (r) => [r], 1);
    const second = makeRecords(4, (r) => [r], 2);
    const memory = createInterleaveMemory(9, 4);
    memory.bytes.set(first, 0);
    memory.interleave(1, 0, 5, IMAGE_BYTES + 1);
    memory.bytes.set(second, 5 * IMAGE_BYTES);
    memory.interleave(5 * IMAGE_BYTES + 1, 5 * IMAGE_BYTES, 4, IMAGE_BYTES + 1);
    const expected = Buffer.concat([naiveNhwc(first, 1), naiveNhwc(second, 1)]);
    expect(Buffer.from(memory.bytes.subarray(0, 9 * IMAGE_BYTES)).equals(expected)).toBe(true);
  });

  it('does nothing for zero records', () => {
    const memory = createInterleaveMemory(0, 0);
    expect(() => memory.interleave(1, 0, 0, IMAGE_BYTES + 1)).not.toThrow();
  });
});
