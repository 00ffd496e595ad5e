import {
  classCounts,
  gather,
  oneHot,
  splitChecksum,
  stratifiedQuotas,
  stratifiedSplit,
  subset,
  toFloat32,
  trainValidationSplit,
  type Split,
} from '../src';

/** A split with `perClass[c]` images of class c, interleaved, and pixel bytes that encode the record index. */
function makeSplit(perClass: number[]): Split {
  const labels: number[] = [];
  const left = [...perClass];
  while (left.some((n) => n > 0)) left.forEach((n, c) => n > 0 && (labels.push(c), (left[c] = n - 1)));
  const count = labels.length;
  const images = new Uint8Array(count * 3072);
  for (let i = 0; i < count; i++) images.fill(i % 256, i * 3072, (i + 1) * 3072).set([i >> 8, i & 255], i * 3072);
  return { images, labels: Uint8Array.from(labels), count, height: 32, width: 32, channels: 3 };
}

const recordIds = (split: Split) =>
  Array.from(
    { length: split.count },
    (_, i) => ((split.images[i * 3072] as number) << 8) | (split.images[i * 3072 + 1] as number),
  );

describe('toFloat32', () => {
  const split = makeSplit([3, 3]);
  it('scales bytes to [0, 1] in NHWC order', () => {
    const all = toFloat32(split);
    expect(all).toHaveLength(6 * 3072);
    for (const i of [0, 1, 2, 3071, 3072, 5 * 3072 + 7])
      expect(all[i]).toBeCloseTo((split.images[i] as number) / 255, 6);
  });
  it('converts a range into a given buffer', () => {
    const out = new Float32Array(2 * 3072);
    expect(toFloat32(split, { start: 3, count: 2, out })).toBe(out);
    expect(out[0]).toBeCloseTo((split.images[3 * 3072] as number) / 255, 6);
    expect(out[3072 + 5]).toBeCloseTo((split.images[4 * 3072 + 5] as number) / 255, 6);
    expect(toFloat32(split, { start: 6 })).toHaveLength(0);
  });
  it('rejects bad ranges, buffers and splits', () => {
    expect(() => toFloat32(split, { start: 7 })).toThrow(
      'Expected an integer in [0, 6] for options.start but received 7 of type number',
    );
    expect(() => toFloat32(split, { start: 5, count: 2 })).toThrow('Expected an integer in [0, 1] for options.count');
    expect(() => toFloat32(split, { count: 1, out: new Float32Array(5) })).toThrow(
      'Expected a Float32Array of length 3072 for options.out but received Float32Array of length 5',
    );
    expect(() => toFloat32({ ...split, count: 7 })).toThrow('for split');
    expect(() => toFloat32({} as Split)).toThrow('Expected a Split');
  });
});

describe('oneHot', () => {
  it('sets one 1 per row', () => {
    expect(Array.from(oneHot(Uint8Array.from([2, 0]), 3))).toEqual([0, 0, 1, 1, 0, 0]);
    const out = new Float32Array(3).fill(7);
    expect(Array.from(oneHot(Int32Array.from([0, 1, 2]), 3, { start: 1, count: 1, out }))).toEqual([0, 1, 0]);
  });
  it('rejects labels out of range and bad class counts', () => {
    expect(() => oneHot(Int32Array.from([0, 3]), 3)).toThrow(
      'Expected a class in [0, 2] for labels[1] but received 3 of type number',
    );
    expect(() => oneHot(Int32Array.from([-1]), 3)).toThrow('for labels[0]');
    expect(() => oneHot(Uint8Array.from([0]), 0)).toThrow('Expected an integer >= 1 for numClasses');
    expect(() => oneHot([0] as unknown as Uint8Array, 2)).toThrow(
      'Expected a Uint8Array or Int32Array for labels but received Array of length 1',
    );
  });
});

describe('stratifiedQuotas', () => {
  it('adds up to the total and keeps each class share within one', () => {
    expect(stratifiedQuotas([50, 30, 20], 10)).toEqual([5, 3, 2]);
    expect(stratifiedQuotas([5, 5, 5], 7)).toEqual([3, 2, 2]);
    const quotas = stratifiedQuotas([13, 7, 1, 29], 11);
    expect(quotas.reduce((a, b) => a + b)).toBe(11);
    quotas.forEach((q, i) => expect(Math.abs(q - (([13, 7, 1, 29][i] as number) * 11) / 50)).toBeLessThan(1));
  });
});

describe('trainValidationSplit', () => {
  const split = makeSplit([40, 30, 20, 10]);
  it('keeps each class in proportion, is disjoint and complete, and keeps record order', () => {
    const { train, validation } = trainValidationSplit(split, { validation: 0.2, seed: 1 });
    expect(validation.count).toBe(20);
    expect(train.count).toBe(80);
    expect(Array.from(classCounts(validation.labels, 4))).toEqual([8, 6, 4, 2]);
    expect(Array.from(classCounts(train.labels, 4))).toEqual([32, 24, 16, 8]);
    const ids = [...recordIds(train), ...recordIds(validation)].sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(recordIds(train)).toEqual([...recordIds(train)].sort((a, b) => a - b));
    // labels travel with their images
    recordIds(validation).forEach((id, i) => expect(validation.labels[i]).toBe(split.labels[id]));
  });
  it('is the same for the same seed and differs for another', () => {
    const a = trainValidationSplit(split, { validation: 10, seed: 7 });
    const b = trainValidationSplit(split, { validation: 10, seed: 7 });
    const c = trainValidationSplit(split, { validation: 10, seed: 8 });
    expect(recordIds(a.validation)).toEqual(recordIds(b.validation));
    expect(recordIds(a.validation)).not.toEqual(recordIds(c.validation));
    expect(a.validation.count).toBe(10);
    expect(Array.from(classCounts(a.validation.labels, 4))).toEqual([4, 3, 2, 1]);
  });
  it('carries CIFAR-100 coarse and fine labels', () => {
    const withBoth: Split = { ...split, fineLabels: split.labels, coarseLabels: split.labels.map((l) => l >> 1) };
    const { validation } = trainValidationSplit(withBoth, { validation: 0.5 });
    recordIds(validation).forEach((id, i) =>
      expect(validation.coarseLabels![i]).toBe((split.labels[id] as number) >> 1),
    );
    expect(validation.fineLabels).toEqual(validation.labels);
  });
  it('rejects shares that leave a side empty or are not fractions or counts', () => {
    expect(() => trainValidationSplit(split, { validation: 0 })).toThrow(
      'Expected a fraction in (0, 1) or an integer count >= 1 for options.validation but received 0 of type number',
    );
    expect(() => trainValidationSplit(split, { validation: 1.5 })).toThrow('for options.validation');
    expect(() => trainValidationSplit(split, { validation: 100 })).toThrow(
      'leaving at least one record on each side of 100 records',
    );
    expect(() => trainValidationSplit(split, { validation: 0.001 })).toThrow('leaving at least one record');
    expect(() => trainValidationSplit(split, { validation: 0.2, numClasses: 3 })).toThrow(
      'Expected an integer > the largest label 3 for options.numClasses',
    );
    expect(() => trainValidationSplit(split, { validation: 0.2, seed: 0.5 })).toThrow(
      'Expected a safe integer for options.seed',
    );
  });
});

describe('subset', () => {
  const split = makeSplit([40, 30, 20, 10]);
  it('takes the first N as views', () => {
    const first = subset(split, { count: 7 });
    expect(first.count).toBe(7);
    expect(first.images.buffer).toBe(split.images.buffer);
    expect(recordIds(first)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(subset(split, { count: 0 }).count).toBe(0);
  });
  it('takes a stratified, seeded choice', () => {
    const some = subset(split, { count: 10, stratified: true, seed: 5 });
    expect(Array.from(classCounts(some.labels, 4))).toEqual([4, 3, 2, 1]);
    expect(recordIds(subset(split, { count: 10, stratified: true, seed: 5 }))).toEqual(recordIds(some));
    expect(recordIds(subset(split, { count: 10, stratified: true, seed: 6 }))).not.toEqual(recordIds(some));
  });
  it('rejects counts beyond the split', () => {
    expect(() => subset(split, { count: 101 })).toThrow(
      'Expected an integer in [0, 100] for options.count but received 101 of type number',
    );
  });
});

describe('gather and splitChecksum', () => {
  const split = makeSplit([3, 3]);
  it('gathers records in the given order', () => {
    expect(recordIds(gather(split, [5, 0, 5]))).toEqual([5, 0, 5]);
  });
  it('is stable and changes with any pixel or label', () => {
    const sum = splitChecksum(split);
    expect(sum).toMatch(/^[0-9a-f]{64}$/);
    expect(splitChecksum(gather(split, [0, 1, 2, 3, 4, 5]))).toBe(sum);
    const pixel = gather(split, [0, 1, 2, 3, 4, 5]);
    pixel.images[100] = (pixel.images[100] as number) ^ 1;
    expect(splitChecksum(pixel)).not.toBe(sum);
    const label = gather(split, [0, 1, 2, 3, 4, 5]);
    label.labels[2] = 9;
    expect(splitChecksum(label)).not.toBe(sum);
    expect(splitChecksum(subset(split, { count: 5 }))).not.toBe(sum);
  });
});

describe('stratifiedSplit', () => {
  it('keeps every class share, is seeded, and splits any label array into two ordered parts', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 60 ? 0 : i < 90 ? 1 : 2));
    const { chosen, rest } = stratifiedSplit(labels, 10, 4);
    expect(chosen.length).toBe(10);
    expect(rest.length).toBe(90);
    expect([...chosen].map((i) => labels[i])).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 2]);
    expect([...chosen, ...rest].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...chosen]).toEqual([...chosen].sort((a, b) => a - b));
    expect(Array.from(stratifiedSplit(labels, 10, 4).chosen)).toEqual(Array.from(chosen));
    expect(Array.from(stratifiedSplit(labels, 10, 5).chosen)).not.toEqual(Array.from(chosen));
    expect(() => stratifiedSplit(labels, 101)).toThrow('Expected an integer in [0, 100] for count');
    expect(() => stratifiedSplit([0, -1], 1)).toThrow('for labels[1]');
  });
});
