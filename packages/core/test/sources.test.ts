import { augmentReference, softVoteReference } from '@tta/native/reference';
import { seededRandom } from '@tta/util';
import {
  evaluatePolicies,
  makePolicy,
  memorySource,
  predictViews,
  predictWithTta,
  predictWithTtaStream,
  withTta,
  type ImageBatch,
  type ImageSource,
  type SourceChunk,
} from '../src';
import { linearClassifier } from './helpers';

const SHAPE = [6, 5, 3] as const;
const PIXELS = 6 * 5 * 3;

function batch(count: number, seed = 3): ImageBatch {
  const random = seededRandom(seed);
  return {
    images: Uint8Array.from({ length: count * PIXELS }, () => Math.floor(random() * 256)),
    count,
    height: 6,
    width: 5,
    channels: 3,
  };
}

/**
 * A source that reads `batch` in chunks but leaves out the images in `missing` (unreadable files), counting its passes.
 */
function gappySource(b: ImageBatch, missing: Set<number>): ImageSource & { passes: number } {
  const source = {
    count: b.count,
    height: b.height,
    width: b.width,
    channels: b.channels,
    passes: 0,
    async *chunks(chunkSize: number): AsyncGenerator<SourceChunk> {
      source.passes++;
      for (let first = 0; first < b.count; first += chunkSize) {
        const kept = Array.from({ length: Math.min(chunkSize, b.count - first) }, (_, j) => first + j).filter(
          (i) => !missing.has(i),
        );
        const images = new Uint8Array(kept.length * PIXELS);
        kept.forEach((i, j) => images.set(b.images.subarray(i * PIXELS, (i + 1) * PIXELS), j * PIXELS));
        yield { images, count: kept.length, indices: kept };
      }
    },
  };
  return source;
}

function subsetBatch(b: ImageBatch, keep: number[]): ImageBatch {
  const images = new Uint8Array(keep.length * PIXELS);
  keep.forEach((i, j) => images.set(b.images.subarray(i * PIXELS, (i + 1) * PIXELS), j * PIXELS));
  return { ...b, images, count: keep.length };
}

test('memorySource yields views of the batch with their indices', async () => {
  const b = batch(7);
  const chunks: SourceChunk[] = [];
  for await (const chunk of memorySource(b).chunks(3)) chunks.push(chunk);
  expect(chunks.map((c) => Array.from(c.indices))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  expect(chunks[1]!.images.buffer).toBe(b.images.buffer);
  expect(() => memorySource({ ...b, count: 8 })).toThrow('for images.images');
});

test('a stream that skips images gives the results of the images it kept, keyed by source index', async () => {
  const b = batch(20);
  const missing = new Set([0, 7, 8, 19]);
  const keep = Array.from({ length: 20 }, (_, i) => i).filter((i) => !missing.has(i));
  const policy = makePolicy('flip-shift', { shift: 1 });
  const streamed = await predictWithTta(linearClassifier([...SHAPE], 4), gappySource(b, missing), policy, {
    chunkSize: 6,
  });
  const direct = await predictWithTta(linearClassifier([...SHAPE], 4), subsetBatch(b, keep), policy);
  expect(Array.from(streamed.indices)).toEqual(keep);
  expect(Array.from(streamed.scores)).toEqual(Array.from(direct.scores));
});

test("a random policy's draws follow each image's source index, not its position after skipping", async () => {
  const b = batch(12);
  const policy = makePolicy('keras-random', { views: 5, seed: 2 });
  const full = await predictWithTta(linearClassifier([...SHAPE], 4), b, policy, { chunkSize: 5 });
  const gappy = await predictWithTta(linearClassifier([...SHAPE], 4), gappySource(b, new Set([1, 2])), policy, {
    chunkSize: 5,
  });
  gappy.indices.forEach((source, row) => {
    expect(Array.from(gappy.scores.subarray(row * 4, row * 4 + 4))).toEqual(
      Array.from(full.scores.subarray(source * 4, source * 4 + 4)),
    );
  });
});

test('predictViews reads the source once, predicts each chunk once under every view, and reports progress', async () => {
  const b = batch(10);
  const source = gappySource(b, new Set([4]));
  const model = linearClassifier([...SHAPE], 4);
  const progress: number[] = [];
  const policies = [
    makePolicy('flip'),
    makePolicy('flip-shift', { shift: 2, fill: 'reflect' }),
    makePolicy('flip-shift', { shift: 2, fill: 'constant' }),
  ];
  const predicted = await predictViews(model, source, policies, {
    chunkSize: 4,
    onProgress: ({ done, total, views }) => progress.push(done, total, views),
  });
  expect(source.passes).toBe(1);
  // id, flip, then 8 shifted views for each of the two fills.
  expect(predicted.views.size).toBe(18);
  expect(model.calls).toEqual([18 * 4, 18 * 3, 18 * 2]);
  expect(progress).toEqual([4, 10, 18, 7, 10, 18, 9, 10, 18]);
  expect(Array.from(predicted.indices)).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
  // Each view's rows are that view of each kept image.
  const kept = subsetBatch(b, Array.from(predicted.indices));
  const expected = await linearClassifier([...SHAPE], 4).predict(
    augmentReference(kept.images, [9, 6, 5, 3], [{ flip: true, dx: -2 }], { fill: 'constant', scale: 1 / 255 }),
    9,
  );
  predicted.views.get('flip+dx=-2@constant')!.predictions.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
});

test('evaluatePolicies pairs by source index: truth is looked up for the images that were read', async () => {
  const b = batch(16);
  const truth = Int32Array.from({ length: 16 }, (_, i) => i % 4);
  const missing = new Set([3, 9]);
  const keep = Array.from({ length: 16 }, (_, i) => i).filter((i) => !missing.has(i));
  const policies = [makePolicy('flip')];
  const gappy = await evaluatePolicies(linearClassifier([...SHAPE], 4), gappySource(b, missing), truth, policies, {
    chunkSize: 5,
  });
  const direct = await evaluatePolicies(
    linearClassifier([...SHAPE], 4),
    subsetBatch(b, keep),
    keep.map((i) => truth[i]!),
    policies,
  );
  expect(Array.from(gappy.truth)).toEqual(keep.map((i) => truth[i]!));
  expect(gappy.runs[0]!.metrics.accuracy).toBe(direct.runs[0]!.metrics.accuracy);
  expect(Array.from(gappy.runs[0]!.labels)).toEqual(Array.from(direct.runs[0]!.labels));
  await expect(evaluatePolicies(linearClassifier([...SHAPE], 4), b, truth.subarray(0, 3), policies)).rejects.toThrow(
    'Expected one class per image (16) for truth',
  );
});

test('float32 images are taken as preprocessed; uint8 images get the classifier preprocessing', async () => {
  const b = batch(6);
  const policy = makePolicy('flip');
  const asFloat = Float32Array.from(b.images, (v) => Math.fround(v * Math.fround(2 / 255)));
  const fromFloat = await predictWithTta(linearClassifier([...SHAPE], 4), { ...b, images: asFloat }, policy);
  const doubled = { ...linearClassifier([...SHAPE], 4), preprocessing: { scale: 2 / 255 } };
  const fromUint8 = await predictWithTta(doubled, b, policy);
  expect(Array.from(fromUint8.scores)).toEqual(Array.from(fromFloat.scores));
});

test('predictWithTtaStream yields merged chunks in order', async () => {
  const b = batch(9);
  const seen: number[][] = [];
  for await (const chunk of predictWithTtaStream(linearClassifier([...SHAPE], 4), b, makePolicy('flip'), {
    chunkSize: 4,
  })) {
    seen.push(Array.from(chunk.indices));
    expect(chunk.scores.length).toBe(chunk.indices.length * 4);
    expect(chunk.forwardPasses).toBe(2 * chunk.indices.length);
  }
  expect(seen).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8]]);
});

test('an aborted signal stops a stream', async () => {
  const controller = new AbortController();
  const run = async () => {
    for await (const _chunk of predictWithTtaStream(linearClassifier([...SHAPE], 4), batch(9), makePolicy('flip'), {
      chunkSize: 2,
      signal: controller.signal,
    })) {
      controller.abort();
    }
  };
  await expect(run()).rejects.toMatchObject({ name: 'AbortError', code: 'TTA_ABORTED' });
});

describe('withTta', () => {
  test('wraps a plain function: same results as the engine on a Classifier', async () => {
    const b = batch(11);
    const reference = linearClassifier([...SHAPE], 4);
    const fn = (images: Float32Array, count: number) => linearClassifier([...SHAPE], 4).predict(images, count);
    const tta = withTta(fn, 'flip', { inputShape: SHAPE, numClasses: 4, chunkSize: 4 });
    expect(tta.policy.name).toBe('flip');
    const result = await tta.predict(b.images);
    const views = augmentReference(b.images, [11, ...SHAPE], [{}, { flip: true }], { scale: 1 / 255 });
    const expected = softVoteReference(await reference.predict(views, 22), [2, 11, 4]);
    result.scores.forEach((v, i) => expect(v).toBeCloseTo(expected.scores[i]!, 6));
    expect(Array.from(result.labels)).toEqual(Array.from(expected.labels));
  });

  test('takes a Classifier, a view spec, and batches or sources', async () => {
    const b = batch(5);
    const tta = withTta(linearClassifier([...SHAPE], 4), 'id,flip+dy=1');
    expect(tta.policy.views).toHaveLength(2);
    const fromBatch = await tta.predict(b);
    const fromSource = await tta.predict(memorySource(b));
    expect(Array.from(fromSource.scores)).toEqual(Array.from(fromBatch.scores));
  });

  test('rejects what it cannot use, by name', () => {
    const fn = () => new Float32Array(0);
    expect(() => withTta(fn, 'flip', { numClasses: 4 })).toThrow('for options.inputShape');
    expect(() => withTta(fn, 'flip', { inputShape: SHAPE })).toThrow('for options.numClasses');
    expect(() => withTta(42 as never)).toThrow('Expected a Classifier or a function');
    expect(() => withTta(fn, 'sideways', { inputShape: SHAPE, numClasses: 2 })).toThrow('for policy');
    const tta = withTta(fn, 'flip', { inputShape: SHAPE, numClasses: 4 });
    return expect(tta.predict(new Uint8Array(PIXELS + 1))).rejects.toThrow('a whole number of 6x5x3 images');
  });
});

test('a chunk in which no image could be read predicts nothing and costs no model call', async () => {
  const b = batch(6);
  const model = linearClassifier([...SHAPE], 4);
  const result = await predictWithTta(model, gappySource(b, new Set([2, 3])), makePolicy('flip'), { chunkSize: 2 });
  expect(Array.from(result.indices)).toEqual([0, 1, 4, 5]);
  expect(model.calls).toEqual([4, 4]);
  const views = await predictViews(
    linearClassifier([...SHAPE], 4),
    gappySource(b, new Set([0, 1])),
    [makePolicy('flip')],
    {
      chunkSize: 2,
    },
  );
  expect(Array.from(views.indices)).toEqual([2, 3, 4, 5]);
});
