import { augmentReference, softVoteReference } from '@tta/native/reference';
import { seededRandom } from '@tta/data';
import { predictWithTta, type ImageBatch } from './engine';
import { evaluatePolicies, mergeFromViews, predictDistinctViews } from './evaluate';
import { makePolicy, randomFlipCounts, resolvePolicy, type Policy } from './policies';
import { linearClassifier } from './testing';

function batch(count: number, seed = 3): ImageBatch {
  const random = seededRandom(seed);
  return { images: Uint8Array.from({ length: count * 6 * 5 * 3 }, () => Math.floor(random() * 256)), count, height: 6, width: 5, channels: 3 };
}

const classifier = () => linearClassifier([6, 5, 3], 4, 11);

async function directPredict(images: ImageBatch, policy: Policy): Promise<Float32Array> {
  const model = classifier();
  const views = augmentReference(images.images, [images.count, 6, 5, 3], policy.views, { fill: policy.fill, scale: 1 / 255 });
  return model.predict(views, policy.views.length * images.count);
}

describe('predictWithTta', () => {
  test("policy 'none' equals a plain predict of the scaled images", async () => {
    const b = batch(23);
    const result = await predictWithTta(classifier(), b, makePolicy('none'), { chunkSize: 5 });
    const plain = await classifier().predict(Float32Array.from(b.images, (v) => Math.fround(v * Math.fround(1 / 255))), 23);
    expect(Array.from(result.scores)).toEqual(Array.from(plain));
  });

  test('merged scores are softVote of the per-view predictions of augment(), for every chunk size', async () => {
    const b = batch(17);
    const policy = makePolicy('flip-shift', { shift: 1, fill: 'reflect', merge: 'gmean' });
    const perView = await directPredict(b, policy);
    const expected = softVoteReference(perView, [policy.views.length, 17, 4], { merge: 'gmean' });
    for (const chunkSize of [1, 4, 17, 1000]) {
      const result = await predictWithTta(classifier(), b, policy, { chunkSize, keepViewPredictions: true });
      expect(result.viewPredictions!.length).toBe(perView.length);
      result.viewPredictions!.forEach((v, i) => expect(v).toBeCloseTo(perView[i]!, 6));
      result.scores.forEach((v, i) => expect(v).toBeCloseTo(expected.scores[i]!, 6));
      expect(Array.from(result.labels)).toEqual(Array.from(expected.labels));
    }
  });

  test('memory stays bounded: one predict per chunk of at most views x chunkSize images', async () => {
    const model = classifier();
    const policy = makePolicy('flip');
    await predictWithTta(model, batch(10), policy, { chunkSize: 4 });
    expect(model.calls).toEqual([8, 8, 4]);
  });

  test('keras-random merges identity and flip with each image\'s seeded flip count', async () => {
    const b = batch(30);
    const policy = makePolicy('keras-random', { views: 7, seed: 5 });
    const result = await predictWithTta(classifier(), b, policy, { chunkSize: 8 });
    const perView = await directPredict(b, makePolicy('flip'));
    const counts = randomFlipCounts({ draws: 7, seed: 5 }, 0, 30);
    expect(new Set(counts).size).toBeGreaterThan(2); // the draws really vary per image
    for (let i = 0; i < 30; i++) {
      const k = counts[i]!;
      for (let c = 0; c < 4; c++) {
        // The tutorial's sum of 7 predictions, divided by 7.
        const explicit = ((7 - k) * perView[i * 4 + c]! + k * perView[(30 + i) * 4 + c]!) / 7;
        expect(result.scores[i * 4 + c]).toBeCloseTo(explicit, 6);
      }
    }
    // Chunking does not change the draws.
    const whole = await predictWithTta(classifier(), b, policy, { chunkSize: 1000 });
    expect(Array.from(whole.scores)).toEqual(Array.from(result.scores));
    // Another seed gives other draws.
    expect(Array.from(randomFlipCounts({ draws: 7, seed: 6 }, 0, 30))).not.toEqual(Array.from(counts));
  });

  test('reports timing with the share outside inference', async () => {
    const result = await predictWithTta(classifier(), batch(12), makePolicy('flip'));
    expect(result.timing.forwardPasses).toBe(2);
    expect(result.timing.seconds).toBeGreaterThanOrEqual(result.timing.inferenceSeconds);
    expect(result.timing.otherShare).toBeGreaterThanOrEqual(0);
    expect(result.timing.otherShare).toBeLessThanOrEqual(1);
  });

  test('rejects images that do not fit the model', async () => {
    const b = { ...batch(2), height: 7 };
    await expect(predictWithTta(classifier(), b, makePolicy('none'))).rejects.toThrow(/Expected images of 6x5x3 \(the model's input\) for images/);
    await expect(predictWithTta(classifier(), batch(2), makePolicy('none'), { chunkSize: 0 })).rejects.toThrow(/chunkSize/);
  });
});

describe('evaluatePolicies (shared per-view predictions)', () => {
  test('equals evaluating each policy directly, and predicts each distinct view once', async () => {
    const b = batch(40, 9);
    const truth = Uint8Array.from({ length: 40 }, (_, i) => i % 4);
    const policies = [makePolicy('flip'), makePolicy('flip-shift', { shift: 2 }), makePolicy('keras-random', { seed: 2 }), resolvePolicy('id,flip+dx=1')];
    const model = classifier();
    const evaluation = await evaluatePolicies(model, b, truth, policies, { chunkSize: 16 });
    // id, flip, 8 shifted views, flip+dx=1: 11 distinct views, each predicted over 40 images once.
    expect(evaluation.views.size).toBe(11);
    expect(model.calls.reduce((a, c) => a + c, 0)).toBe(11 * 40);
    for (const run of evaluation.runs) {
      const direct = await predictWithTta(classifier(), b, run.policy, { chunkSize: 7 });
      run.scores.forEach((v, i) => expect(v).toBeCloseTo(direct.scores[i]!, 6));
      expect(Array.from(run.labels)).toEqual(Array.from(direct.labels));
    }
    const none = await predictWithTta(classifier(), b, makePolicy('none'));
    expect(Array.from(evaluation.baseline.labels)).toEqual(Array.from(none.labels));
    expect(evaluation.baseline.lift).toBe(0);
    // The lift is the accuracy difference, and the flips explain it.
    for (const run of evaluation.runs) {
      expect(run.lift).toBeCloseTo(run.metrics.accuracy - evaluation.baseline.metrics.accuracy, 12);
      expect((run.flips.wrongToCorrect - run.flips.correctToWrong) / 40).toBeCloseTo(run.lift, 12);
    }
  });

  test('mergeFromViews fails clearly when a view was not predicted', async () => {
    const views = await predictDistinctViews(classifier(), batch(3), [makePolicy('none')]);
    expect(() => mergeFromViews(makePolicy('flip'), views, 3, 4)).toThrow(/No predictions for view flip/);
  });
});
