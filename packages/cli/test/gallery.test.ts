import type { Evaluation, ImageSource, TestedPolicy } from '@tta/core';
import { GALLERY_PER_KIND, galleryOf, thumbnail } from '../src/gallery';

describe('thumbnail', () => {
  test('small images are kept as they are', () => {
    const pixels = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => i * 7);
    expect(thumbnail(pixels, 3, 4, 3)).toEqual({ width: 4, height: 3, channels: 3, pixels });
  });

  test('large images are box-averaged down to the longest side (edges average what is there)', () => {
    // 5 x 3 gray image to at most 2 px: factor 3, so 2 x 1; the last box holds columns 3-4 only.
    const pixels = Uint8Array.from([0, 3, 6, 100, 200, 0, 3, 6, 100, 200, 0, 3, 6, 100, 200]);
    expect(thumbnail(pixels, 3, 5, 1, 2)).toEqual({
      width: 2,
      height: 1,
      channels: 1,
      pixels: Uint8Array.from([3, 150]),
    });
  });

  test('float images (already preprocessed) are stretched to 0..255', () => {
    const t = thumbnail(Float32Array.from([-1, 0, 1, 0.5]), 2, 2, 1);
    expect(Array.from(t.pixels)).toEqual([0, 128, 255, 191]);
    // A 224x224 float image (more values than a function takes as arguments).
    const big = thumbnail(
      Float32Array.from({ length: 224 * 224 * 3 }, (_, i) => (i % 3) - 1),
      224,
      224,
      3,
    );
    expect([big.width, big.height]).toEqual([56, 56]);
    expect(Array.from(big.pixels.subarray(0, 3))).toEqual([0, 128, 255]);
  });
});

describe('galleryOf', () => {
  const n = 40;
  const K = 3;
  // Truth 0 everywhere; plain right on even rows, TTA right on rows divisible by 3.
  const truth = new Int32Array(n);
  const indices = Int32Array.from({ length: n }, (_, i) => 100 + i); // source indices differ from rows
  const tested = (role: TestedPolicy['role'], right: (i: number) => boolean, views: number): TestedPolicy => {
    const scores = new Float32Array(n * K);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = right(i) ? 0 : 1 + (i % 2);
      // Unnormalised scores: the probability shown is normalised.
      scores.set([1, 1, 1], i * K);
      scores[i * K + labels[i]!] = 2;
    }
    return {
      role,
      name: role,
      policy: {
        name: role,
        views: Array.from({ length: views }, () => ({ flip: false, dx: 0, dy: 0 })),
        fill: 'nearest',
        merge: 'mean',
      },
      temperature: 1,
      metrics: {} as TestedPolicy['metrics'],
      calibrated: {} as TestedPolicy['metrics'],
      correct: Uint8Array.from(labels, (l) => (l === 0 ? 1 : 0)),
      labels,
      scores,
    };
  };
  const plain = tested('plain', (i) => i % 2 === 0, 1);
  const chosen = tested('chosen', (i) => i % 3 === 0, 2);
  // A source of 2x2 gray images whose pixels are their source index, read in chunks.
  const reads: number[] = [];
  const source: ImageSource = {
    count: 200,
    height: 2,
    width: 2,
    channels: 1,
    async *chunks(size: number) {
      for (let first = 0; first < 200; first += size) {
        const m = Math.min(size, 200 - first);
        reads.push(first);
        yield {
          images: Uint8Array.from({ length: m * 4 }, (_, j) => first + Math.floor(j / 4)),
          count: m,
          indices: Int32Array.from({ length: m }, (_, j) => first + j),
        };
      }
    },
  };
  const evaluation = { indices, truth } as unknown as Evaluation;

  test('the first fixed and broken images in test order, their pixels, labels and normalised probabilities', async () => {
    const gallery = (await galleryOf(source, evaluation, [plain, chosen]))!;
    const fixedRows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 1 && i % 3 === 0);
    const brokeRows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 0 && i % 3 !== 0);
    expect(gallery).toMatchObject({ policy: 'chosen', fixed: fixedRows.length, broke: brokeRows.length });
    const want = [
      ...fixedRows.map((row) => ({ row, kind: 'fixed' })),
      ...brokeRows.slice(0, GALLERY_PER_KIND).map((row) => ({ row, kind: 'broke' })),
    ].sort((a, b) => a.row - b.row);
    expect(gallery.items.map((item) => [item.kind, item.index])).toEqual(want.map((w) => [w.kind, 100 + w.row]));
    // Reading stops once every wanted image is found (the last wanted source index is below 192).
    expect(reads).toEqual([0, 64, 128]);
    for (const item of gallery.items) {
      expect(Array.from(item.image.pixels)).toEqual([item.index, item.index, item.index, item.index]);
      expect(item.truth).toBe(0);
      expect(item.plain.probability).toBeCloseTo(0.5, 6);
      expect(item.plain.label).toBe(plain.labels[item.index - 100]);
      expect(item.tta.label).toBe(chosen.labels[item.index - 100]);
    }
  });

  test('when the chosen policy is no TTA, the tested policy that changed most predictions is shown', async () => {
    const none = tested('chosen', (i) => i % 2 === 0, 1);
    const few = tested('learned', (i) => i % 2 === 0 || i === 1, 2);
    const many = tested('mean of the same views', (i) => i % 3 === 0, 2);
    expect((await galleryOf(source, evaluation, [plain, none, few, many]))!.policy).toBe('mean of the same views');
    expect(await galleryOf(source, evaluation, [plain, none])).toBeUndefined();
  });
});
