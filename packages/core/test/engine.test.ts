import { augmentReference, softVoteReference } from '@tta/native/reference';
import type { Merge } from '@tta/native';
import { seededRandom } from '@tta/util';
import { predictWithTta } from '../src/engine';
import type { ImageBatch } from '../src/images';
import { evaluatePolicies, mergeFromViews, predictDistinctViews } from '../src/evaluate';
import { makePolicy, randomFlipCounts, resolvePolicy, viewsForInput, type Policy } from '../src/policies';
import { applyTemperature } from '../src/calibration';
import { mergeLearned } from '../src/learned';
import { linearClassifier } from './helpers';

function batch(count: number, seed = 3): ImageBatch {
  const random = seededRandom(seed);
  return {
    images: Uint8Array.from({ length: count * 6 * 5 * 3 }, () => Math.floor(random() * 256)),
    count,
    height: 6,
    width: 5,
    channels: 3,
  };
}

const classifier = () => linearClassifier([6, 5, 3], 4, 11);

async function directPredict(images: ImageBatch, policy: Policy): Promise<Float32Array> {
  const model = classifier();
  const views = augmentReference(images.images, [images.count, 6, 5, 3], viewsForInput(policy.views, [6, 5, 3]), {
    fill: policy.fill,
    scale: 1 / 255,
  });
  return model.predict(views, policy.views.length * images.count);
}

describe('predictWithTta', () => {
  test("policy 'none' equals a plain predict of the scaled images", async () => {
    const b = batch(23);
    const result = await predictWithTta(classifier(), b, makePolicy('none'), { chunkSize: 5 });
    const plain = await classifier().predict(
      Float32Array.from(b.images, (v) => Math.fround(v * Math.fround(1 / 255))),
      23,
    );
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

  test("keras-random merges identity and flip with each image's seeded flip count", async () => {
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
    const b = { ...batch(2), images: new Uint8Array(2 * 5 * 5 * 3), height: 5 };
    await expect(predictWithTta(classifier(), b, makePolicy('none'))).rejects.toThrow(
      /Expected images of 6x5x3 \(the model's input\) or larger with 3 channels .* for images but received 5x5x3 images/,
    );
    const gray = { ...batch(2), images: new Uint8Array(2 * 6 * 5), channels: 1 };
    await expect(predictWithTta(classifier(), gray, makePolicy('none'))).rejects.toThrow(/received 6x5x1 images/);
    await expect(predictWithTta(classifier(), { ...batch(2), height: 7 }, makePolicy('none'))).rejects.toThrow(
      'Expected 210 values (count x height x width x channels = 2 x 7 x 5 x 3) for images.images but received Uint8Array of length 180',
    );
    await expect(predictWithTta(classifier(), batch(2), makePolicy('none'), { chunkSize: 0 })).rejects.toThrow(
      /chunkSize/,
    );
  });
});

describe('images larger than the model input (views resampled to it)', () => {
  // 64x64 images, a 32x32 classifier: every view is made at 32x32 by augment's outputShape.
  function large(count: number, seed = 8): ImageBatch {
    const random = seededRandom(seed);
    return {
      images: Uint8Array.from({ length: count * 64 * 64 * 3 }, () => Math.floor(random() * 256)),
      count,
      height: 64,
      width: 64,
      channels: 3,
    };
  }
  const model = () => linearClassifier([32, 32, 3], 5, 21);

  async function expected(
    b: ImageBatch,
    policy: Policy & { merge: Merge },
  ): Promise<{ perView: Float32Array; scores: Float32Array }> {
    const views = viewsForInput(policy.views, [32, 32, 3]);
    const input = augmentReference(b.images, [b.count, 64, 64, 3], views, {
      fill: policy.fill,
      scale: 1 / 255,
      outputShape: [32, 32],
    });
    const perView = await model().predict(input, views.length * b.count);
    const merged = softVoteReference(perView, [views.length, b.count, 5], { merge: policy.merge });
    return { perView, scores: merged.scores };
  }

  test.each(['ten-crop', 'five-crop', 'multiscale', 'd4', 'none'])(
    '%s equals augment at 32x32 + predict + softVote, in every chunk size',
    async (name) => {
      const b = large(6);
      const policy = { ...makePolicy(name, { fill: 'reflect' }), merge: 'gmean' as const };
      const { perView, scores } = await expected(b, policy);
      for (const chunkSize of [1, 4, 100]) {
        const result = await predictWithTta(model(), b, policy, { chunkSize, keepViewPredictions: true });
        result.viewPredictions!.forEach((v, i) => expect(v).toBeCloseTo(perView[i]!, 6));
        result.scores.forEach((v, i) => expect(v).toBeCloseTo(scores[i]!, 6));
      }
    },
  );

  test('the crops are the 32x32 windows of the image (no resampling), sized by the model input', async () => {
    const b = large(2);
    const policy = resolvePolicy('crop=bottom-right');
    const result = await predictWithTta(model(), b, policy, { keepViewPredictions: true });
    // The bottom-right 32x32 window of each image, scaled, predicted directly.
    const window = new Float32Array(2 * 32 * 32 * 3);
    for (let i = 0; i < 2; i++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++)
          for (let k = 0; k < 3; k++)
            window[((i * 32 + y) * 32 + x) * 3 + k] = Math.fround(
              b.images[((i * 64 + 32 + y) * 64 + 32 + x) * 3 + k]! * Math.fround(1 / 255),
            );
    const direct = await model().predict(window, 2);
    expect(Array.from(result.viewPredictions!)).toEqual(Array.from(direct));
  });

  test('evaluatePolicies and the gated path give the same as predictWithTta', async () => {
    const b = { ...large(8), labels: Int32Array.from({ length: 8 }, (_, i) => i % 5) };
    const policies = [makePolicy('ten-crop'), makePolicy('multiscale', { fill: 'constant' }), makePolicy('d4')];
    const evaluation = await evaluatePolicies(model(), b, b.labels, policies, { chunkSize: 3 });
    // Shared views: ten-crop's 10, multiscale's 6 (id and flip shared with d4, zoom 0.9 under 'constant'), d4's 6 more.
    expect(evaluation.views.size).toBe(10 + 6 + 6);
    for (const run of evaluation.runs) {
      const direct = await predictWithTta(model(), b, run.policy, { chunkSize: 5 });
      run.scores.forEach((v, i) => expect(v).toBeCloseTo(direct.scores[i]!, 6));
      expect(Array.from(run.labels)).toEqual(Array.from(direct.labels));
    }
    const gated = await predictWithTta(model(), b, { ...makePolicy('ten-crop'), gate: { margin: 1 } });
    const full = await predictWithTta(model(), b, makePolicy('ten-crop'));
    gated.scores.forEach((v, i) => expect(v).toBeCloseTo(full.scores[i]!, 6));
  });

  test('a crop of the input size out of images of that size is refused with the fix', async () => {
    await expect(predictWithTta(classifier(), batch(2), makePolicy('five-crop'))).rejects.toThrow(
      /Expected images larger than the model's input 6x5 for the view crop=center \(a crop of the input's size\), or a crop size such as crop=center:5 for images but received 6x5 images/,
    );
    // With a size, a crop of same-size images is resampled to the input.
    const result = await predictWithTta(classifier(), batch(2), makePolicy('five-crop', { cropSize: 4 }));
    expect(result.scores.length).toBe(8);
  });
});

describe('evaluatePolicies (shared per-view predictions)', () => {
  test('equals evaluating each policy directly, and predicts each distinct view once', async () => {
    const b = batch(40, 9);
    const truth = Uint8Array.from({ length: 40 }, (_, i) => i % 4);
    const policies = [
      makePolicy('flip'),
      makePolicy('flip-shift', { shift: 2 }),
      makePolicy('keras-random', { seed: 2 }),
      resolvePolicy('id,flip+dx=1'),
    ];
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

describe('confidence-gated TTA', () => {
  test('equals plain prediction for confident images and full TTA for the rest', async () => {
    const b = batch(50, 21);
    const full = makePolicy('flip-shift', { shift: 1 });
    const plain = await predictWithTta(classifier(), b, makePolicy('none'));
    const tta = await predictWithTta(classifier(), b, full);
    const margins = Array.from({ length: 50 }, (_, i) => {
      const row = Array.from(plain.scores.subarray(i * 4, i * 4 + 4)).sort((x, y) => y - x);
      return row[0]! - row[1]!;
    });
    const threshold = [...margins].sort((x, y) => x - y)[20]!; // about 40% gated
    const model = classifier();
    const gated = await predictWithTta(model, b, { ...full, gate: { margin: threshold } }, { chunkSize: 16 });
    let count = 0;
    for (let i = 0; i < 50; i++) {
      const expected = margins[i]! < threshold ? tta : plain;
      if (margins[i]! < threshold) count++;
      expect(gated.gated![i]).toBe(margins[i]! < threshold ? 1 : 0);
      for (let k = 0; k < 4; k++) expect(gated.scores[i * 4 + k]).toBeCloseTo(expected.scores[i * 4 + k]!, 6);
      expect(gated.labels[i]).toBe(expected.labels[i]);
    }
    expect(count).toBe(20);
    // Cost: one pass for everyone, nine more (the non-identity views) for the gated images only.
    expect(model.calls.reduce((a, c) => a + c, 0)).toBe(50 + 20 * 9);
    expect(gated.timing.forwardPasses).toBeCloseTo((50 + 180) / 50, 12);
    // The shared-view merge gives the same result.
    const views = await predictDistinctViews(classifier(), b, [makePolicy('none'), full]);
    const shared = mergeFromViews({ ...full, gate: { margin: threshold } }, views, 50, 4);
    expect(shared.gatedFraction).toBeCloseTo(0.4, 12);
    shared.scores.forEach((v, i) => expect(v).toBeCloseTo(gated.scores[i]!, 6));
  });

  test('margin 0 gates nothing, margin 1 gates everything', async () => {
    const b = batch(10);
    const none = await predictWithTta(classifier(), b, { ...makePolicy('flip'), gate: { margin: 0 } });
    const plain = await predictWithTta(classifier(), b, makePolicy('none'));
    expect(Array.from(none.scores)).toEqual(Array.from(plain.scores));
    const all = await predictWithTta(classifier(), b, { ...makePolicy('flip'), gate: { margin: 1.01 } });
    const flip = await predictWithTta(classifier(), b, makePolicy('flip'));
    all.scores.forEach((v, i) => expect(v).toBeCloseTo(flip.scores[i]!, 6));
  });
});

describe('learned merge and temperature', () => {
  const learnedFlipShift = (): Policy => ({
    ...makePolicy('flip-shift', { shift: 1 }),
    merge: 'learned',
    learned: { shape: 'view', weights: [0.4, 0.2, 0.1, 0.05, 0.05, 0.05, 0.05, 0.04, 0.03, 0.03] },
    temperature: 1.7,
  });

  test('predictWithTta merges the views with the learned weights, then applies the temperature', async () => {
    const b = batch(17);
    const policy = learnedFlipShift();
    const result = await predictWithTta(classifier(), b, policy, { chunkSize: 6, keepViewPredictions: true });
    const views = await directPredict(b, policy);
    const merged = mergeLearned(views, [10, 17, 4], policy.learned!);
    const expected = applyTemperature(merged.scores, 4, 1.7);
    for (let j = 0; j < expected.length; j++) expect(result.scores[j]).toBeCloseTo(expected[j]!, 5);
    expect(Array.from(result.labels)).toEqual(Array.from(merged.labels));
    // The temperature changes confidence, not labels: without it the labels are the same.
    const plain = await predictWithTta(classifier(), b, { ...policy, temperature: undefined });
    expect(Array.from(plain.labels)).toEqual(Array.from(result.labels));
    expect(Array.from(plain.scores)).not.toEqual(Array.from(result.scores));
  });

  test('evaluation from shared view predictions equals predictWithTta (gated too)', async () => {
    const b = batch(30);
    const truth = Int32Array.from({ length: 30 }, (_, i) => i % 4);
    for (const policy of [learnedFlipShift(), { ...learnedFlipShift(), gate: { margin: 0.2 } }]) {
      const direct = await predictWithTta(classifier(), b, policy, { chunkSize: 7 });
      const evaluation = await evaluatePolicies(classifier(), b, truth, [policy], { chunkSize: 11 });
      for (let j = 0; j < direct.scores.length; j++)
        expect(evaluation.runs[0]!.scores[j]).toBeCloseTo(direct.scores[j]!, 5);
      expect(Array.from(evaluation.runs[0]!.labels)).toEqual(Array.from(direct.labels));
    }
  });

  test('a learned merge without weights, or with weights that do not fit, is refused before any work', async () => {
    const model = classifier();
    const policy: Policy = { ...makePolicy('flip'), merge: 'learned' };
    await expect(predictWithTta(model, batch(3), policy)).rejects.toThrow(/policy.learned/);
    await expect(
      predictWithTta(model, batch(3), { ...policy, learned: { shape: 'view', weights: [1, 0, 0] } }),
    ).rejects.toThrow(/2 weights/);
    await expect(predictWithTta(model, batch(3), { ...makePolicy('flip'), temperature: 0 })).rejects.toThrow(
      /policy.temperature/,
    );
    expect(model.calls).toEqual([]);
  });
});
