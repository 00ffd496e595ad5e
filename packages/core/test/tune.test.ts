import { seededRandom } from '@tta/util';
import { predictWithTta } from '../src/engine';
import type { ImageBatch } from '../src/images';
import { classificationMetrics } from '../src/metrics';
import { auroc, compareCandidates, tunePolicy, tuneThenTest, type Candidate } from '../src/tune';
import { applyTemperature, fitTemperature } from '../src/calibration';
import { evaluatePolicies, mergeFromViews, viewKey } from '../src/evaluate';
import { fitLearnedWeights, outOfFoldLearnedMerge } from '../src/learned';
import { mcnemarExact } from '../src/stats';
import { formatView, parseViewSpec } from '../src/policies';
import { linearClassifier } from './helpers';

function batch(count: number, seed: number): ImageBatch & { labels: Uint8Array } {
  const random = seededRandom(seed);
  const images = Uint8Array.from({ length: count * 6 * 5 * 3 }, () => Math.floor(random() * 256));
  return {
    images,
    count,
    height: 6,
    width: 5,
    channels: 3,
    labels: Uint8Array.from({ length: count }, () => Math.floor(random() * 4)),
  };
}
const classifier = () => linearClassifier([6, 5, 3], 4, 11);
const search = {
  shifts: [1, 2],
  fills: ['nearest', 'reflect'] as const,
  merges: ['mean', 'gmean', 'vote'] as const,
  identityWeights: [1, 3],
  greedyMax: 4,
};

describe('tunePolicy', () => {
  test('each candidate scored from shared predictions equals evaluating that policy directly', async () => {
    const val = batch(60, 1);
    const model = classifier();
    const result = await tunePolicy(model, val, val.labels, {
      ...search,
      fills: [...search.fills],
      merges: [...search.merges],
    });
    // Distinct views: id, flip, and 2 fills x 2 sizes x 8 shifted views.
    expect(result.views.size).toBe(2 + 2 * 2 * 8);
    expect(model.calls.reduce((a, c) => a + c, 0)).toBe(result.views.size * 60);
    // Learned merges are scored out of fold (tested below), the others as they would predict.
    const sample = result.candidates.filter((c, i) => c.policy.merge !== 'learned' && (i % 7 === 0 || c.policy.gate));
    expect(sample.some((c) => c.policy.gate)).toBe(true);
    for (const c of sample) {
      // Candidates' figures are before temperature scaling.
      const direct = await predictWithTta(
        classifier(),
        val,
        { ...c.policy, temperature: undefined },
        { chunkSize: 25 },
      );
      const m = classificationMetrics(direct.scores, direct.labels, val.labels, 4);
      expect(c.accuracy).toBeCloseTo(m.accuracy, 12);
      expect(c.nll).toBeCloseTo(m.nll, 5);
      expect(c.forwardPasses).toBeCloseTo(direct.timing.forwardPasses, 12);
    }
  });

  test('the best candidate is the most accurate, ties going to the cheaper one', async () => {
    const val = batch(80, 2);
    const result = await tunePolicy(classifier(), val, val.labels, {
      ...search,
      fills: [...search.fills],
      merges: [...search.merges],
    });
    const top = Math.max(...result.candidates.map((c) => c.accuracy));
    expect(result.best.accuracy).toBe(top);
    const tied = result.candidates.filter((c) => c.accuracy === top);
    expect(result.best.forwardPasses).toBe(Math.min(...tied.map((c) => c.forwardPasses)));
    expect(result.greedy[0]).toMatchObject({ size: 1, viewSpec: 'id' });
    expect(result.greedy.length).toBeLessThanOrEqual(4);
    // Greedy selection lowers (or keeps) the NLL at every step.
    for (let i = 1; i < result.greedy.length; i++)
      expect(result.greedy[i]!.nll).toBeLessThanOrEqual(result.greedy[i - 1]!.nll + 1e-12);
    if (result.best.policy.views.length > 1) expect(result.leaveOneOut.length).toBeGreaterThan(0);
    expect(result.disagreement.mean).toBeGreaterThanOrEqual(0);
    expect(result.disagreement.byLevel.reduce((a, l) => a + l.count, 0)).toBe(80);
  });

  test('images larger than the model input: crop and zoom families, each candidate as it would predict; d4 when asked', async () => {
    // 12x10 images for the 6x5 classifier.
    const random = seededRandom(5);
    const val = {
      images: Uint8Array.from({ length: 40 * 12 * 10 * 3 }, () => Math.floor(random() * 256)),
      count: 40,
      height: 12,
      width: 10,
      channels: 3,
      labels: Uint8Array.from({ length: 40 }, () => Math.floor(random() * 4)),
    };
    const small = {
      shifts: [1],
      fills: ['reflect' as const],
      merges: ['mean' as const],
      identityWeights: [1],
      learned: [],
    };
    const result = await tunePolicy(classifier(), val, val.labels, small);
    const names = result.candidates.map((c) => c.name);
    for (const name of ['center-crop mean', 'center-crop flip mean', 'five-crop mean', 'ten-crop mean'])
      expect(names).toContain(name);
    expect(names).toContain('multiscale z=1,0.9,1.1 reflect mean');
    expect(names.some((n) => n.startsWith('d4'))).toBe(false);
    // id, flip, 8 shifts, 10 crops, 4 zoomed views (zoom 0.9 under reflect).
    expect(result.views.size).toBe(2 + 8 + 10 + 4);
    for (const name of ['ten-crop mean', 'multiscale z=1,0.9,1.1 reflect mean']) {
      const c = result.candidates.find((x) => x.name === name)!;
      const direct = await predictWithTta(classifier(), val, { ...c.policy, temperature: undefined });
      expect(c.accuracy).toBeCloseTo(classificationMetrics(direct.scores, direct.labels, val.labels, 4).accuracy, 12);
      expect(c.nll).toBeCloseTo(classificationMetrics(direct.scores, direct.labels, val.labels, 4).nll, 5);
    }
    // d4 needs a square model input; then its 8 views are a family.
    await expect(tunePolicy(classifier(), val, val.labels, { ...small, d4: true })).rejects.toThrow(
      /Expected a model with a square input \(rotations by 90 and 270 turn h x w into w x h\) for search.d4 but received a 6x5 input/,
    );
    const square = linearClassifier([6, 6, 3], 4, 11);
    const withD4 = await tunePolicy(square, val, val.labels, { ...small, d4: true, crops: false, zooms: [] });
    const d4 = withD4.candidates.find((c) => c.name === 'd4 mean')!;
    expect(d4.policy.views).toHaveLength(8);
    const direct = await predictWithTta(square, val, { ...d4.policy, temperature: undefined });
    expect(d4.accuracy).toBeCloseTo(classificationMetrics(direct.scores, direct.labels, val.labels, 4).accuracy, 12);
    expect(withD4.candidates.some((c) => /crop|multiscale/.test(c.name))).toBe(false);
    // Same-size images: no crop or zoom family unless asked.
    const plain = await tunePolicy(classifier(), batch(30, 4), batch(30, 4).labels, small);
    expect(plain.candidates.some((c) => /crop|multiscale|d4/.test(c.name))).toBe(false);
    const zoomed = await tunePolicy(classifier(), batch(30, 4), batch(30, 4).labels, { ...small, zooms: [1.2] });
    expect(zoomed.candidates.map((c) => c.name)).toContain('multiscale z=1,1.2 mean');
  });

  test('compareCandidates: accuracy, then cost, then NLL', () => {
    const c = (accuracy: number, forwardPasses: number, nll: number) => ({ accuracy, forwardPasses, nll }) as Candidate;
    const sorted = [c(0.5, 2, 1), c(0.6, 8, 1), c(0.6, 2, 2), c(0.6, 2, 1)].sort(compareCandidates);
    expect(sorted.map((x) => [x.accuracy, x.forwardPasses, x.nll])).toEqual([
      [0.6, 2, 1],
      [0.6, 2, 2],
      [0.6, 8, 1],
      [0.5, 2, 1],
    ]);
  });
});

describe('tuneThenTest never reads the test labels before choosing', () => {
  test('poisoned test labels change nothing in the choice', async () => {
    const val = batch(50, 3);
    const test = batch(40, 4);
    const clean = await tuneThenTest(classifier(), val, test, { shifts: [1], merges: ['mean'] });
    let touched = false;
    const poisoned = new Proxy(
      Uint8Array.from(test.labels, (l) => (l + 1) % 4),
      {
        get(target, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key)) touched = true;
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : (void receiver, value);
        },
      },
    );
    let touchedBeforeChoice: boolean | undefined;
    const dirty = await tuneThenTest(
      classifier(),
      val,
      { ...test, labels: poisoned },
      { shifts: [1], merges: ['mean'] },
      {
        onChosen: () => (touchedBeforeChoice = touched),
      },
    );
    expect(touchedBeforeChoice).toBe(false);
    expect(touched).toBe(true); // the test set is used, after the choice
    expect(dirty.tune.best.name).toBe(clean.tune.best.name);
    expect(dirty.tune.candidates.map((c) => c.accuracy)).toEqual(clean.tune.candidates.map((c) => c.accuracy));
    expect(dirty.test.runs[0]!.metrics.accuracy).not.toBe(clean.test.runs[0]!.metrics.accuracy);
    // What the fits chose from validation data alone is the same too: learned weights, temperatures.
    const fitted = (r: typeof clean) =>
      r.tune.candidates.map((c) => ({ learned: c.policy.learned, temperature: c.temperature, nll: c.calibratedNll }));
    expect(clean.tune.candidates.some((c) => c.policy.learned)).toBe(true);
    expect(fitted(dirty)).toEqual(fitted(clean));
    expect(dirty.tune.best.policy).toEqual(clean.tune.best.policy);
    expect(dirty.tested.map((t) => t.temperature)).toEqual(clean.tested.map((t) => t.temperature));
  });
});

describe('learned merges and temperature scaling in tuning', () => {
  const small = { shifts: [1], fills: ['nearest' as const], merges: ['mean' as const, 'gmean' as const], greedyMax: 4 };

  test('learned candidates: scored out of fold, weights fitted on all validation rows, temperatures fitted per candidate', async () => {
    const val = batch(120, 5);
    const result = await tunePolicy(classifier(), val, val.labels, small, { seed: 3 });
    const learned = result.candidates.filter((c) => c.policy.merge === 'learned');
    expect(learned.map((c) => c.policy.learned!.shape).sort()).toEqual(expect.arrayContaining(['view', 'view-class']));
    for (const c of learned) {
      const V = c.policy.views.length;
      const stacked = new Float32Array(V * 120 * 4);
      c.policy.views.forEach((view, v) =>
        stacked.set(result.views.get(viewKey(view, c.policy.fill))!.predictions, v * 120 * 4),
      );
      const shape = c.policy.learned!.shape;
      const oof = outOfFoldLearnedMerge(stacked, [V, 120, 4], val.labels, { shape, folds: 5, seed: 3 });
      const m = classificationMetrics(oof.scores, oof.labels, val.labels, 4);
      expect(c.accuracy).toBe(m.accuracy);
      expect(c.nll).toBeCloseTo(m.nll, 10);
      expect(c.policy.learned!.weights).toEqual(fitLearnedWeights(stacked, [V, 120, 4], val.labels, { shape }).weights);
      expect(c.temperature).toBeCloseTo(fitTemperature(oof.scores, val.labels, 4).temperature, 10);
      expect(c.meanOfSameViews!.policy).toMatchObject({ views: c.policy.views, fill: c.policy.fill, merge: 'mean' });
    }
    for (const c of result.candidates.filter((c) => c.policy.merge !== 'learned').slice(0, 5)) {
      const merged = mergeFromViews(c.policy, result.views, 120, 4);
      const t = fitTemperature(merged.scores, val.labels, 4);
      expect(c.temperature).toBeCloseTo(t.temperature, 10);
      expect(c.calibratedNll).toBeCloseTo(t.nllAfter, 10);
      expect(c.calibratedNll).toBeLessThanOrEqual(c.nll + 1e-6);
    }
    expect(result.best.policy.temperature).toBe(result.best.temperature);
  });

  test('leave-one-out compares NLL before temperature scaling on both sides', async () => {
    const val = batch(120, 9);
    const result = await tunePolicy(classifier(), val, val.labels, { ...small, learned: [], gateFractions: [] });
    const { best } = result;
    expect(best.policy.views.length).toBeGreaterThan(1);
    expect(result.leaveOneOut).toHaveLength(best.policy.views.length);
    result.leaveOneOut.forEach((l, v) => {
      const rest = {
        ...best.policy,
        temperature: undefined,
        views: best.policy.views.filter((_, u) => u !== v),
        weights: best.policy.weights?.filter((_, u) => u !== v),
      };
      const merged = mergeFromViews(rest, result.views, 120, 4);
      const nll = classificationMetrics(merged.scores, merged.labels, val.labels, 4).nll;
      expect(l.nllIncrease).toBeCloseTo(nll - best.nll, 10);
    });
  });

  test("rank 'calibrated-nll' chooses the lowest NLL after temperature scaling", async () => {
    const val = batch(100, 6);
    const result = await tunePolicy(classifier(), val, val.labels, { ...small, rank: 'calibrated-nll' });
    expect(result.rank).toBe('calibrated-nll');
    const lowest = Math.min(...result.candidates.map((c) => c.calibratedNll));
    expect(result.best.calibratedNll).toBe(lowest);
    const byAccuracy = await tunePolicy(classifier(), val, val.labels, small);
    expect(byAccuracy.best.accuracy).toBe(Math.max(...byAccuracy.candidates.map((c) => c.accuracy)));
  });

  test.each(['accuracy', 'calibrated-nll'] as const)(
    'greedy selection (rank %s) adds at each step the view with the lowest NLL (after temperature for calibrated-nll)',
    async (rank) => {
      const val = batch(90, 11);
      const result = await tunePolicy(classifier(), val, val.labels, { ...small, learned: [], rank });
      const loss = (spec: string) => {
        const policy = { name: 'x', views: parseViewSpec(spec), fill: 'nearest' as const, merge: 'mean' as const };
        const merged = mergeFromViews(policy, result.views, 90, 4);
        return rank === 'accuracy'
          ? classificationMetrics(merged.scores, merged.labels, val.labels, 4).nll
          : fitTemperature(merged.scores, val.labels, 4).nllAfter;
      };
      const pool = [...result.views.values()].map((v) => v.view).filter((v) => formatView(v) !== 'id');
      expect(result.greedy.length).toBe(4);
      for (let step = 1; step < result.greedy.length; step++) {
        const before = result.greedy[step - 1]!.viewSpec;
        const options = pool
          .map(formatView)
          .filter((v) => !before.split(',').includes(v))
          .map((v) => loss(`${before},${v}`));
        expect(loss(result.greedy[step]!.viewSpec)).toBeCloseTo(Math.min(...options), 12);
      }
    },
  );

  test('on the test set: each policy with its validation temperature, learned paired against the mean of the same views', async () => {
    const val = batch(100, 7);
    const test = batch(80, 8);
    const { tune, tested, paired } = await tuneThenTest(classifier(), val, test, small, { seed: 1 });
    expect(tested[0]!.role).toBe('plain');
    expect(tested[0]!.temperature).toBe(tune.baseline.temperature);
    const learned = tested.find((t) => t.policy.merge === 'learned')!;
    const mean = tested.find((t) => t.role === 'mean of the same views')!;
    expect(learned).toBeDefined();
    expect(mean.policy).toMatchObject({ views: learned.policy.views, merge: 'mean' });
    // Recompute the test figures from scratch.
    const direct = await evaluatePolicies(classifier(), test, test.labels, [learned.policy, mean.policy]);
    const [l, m] = direct.runs;
    expect(Array.from(learned.labels)).toEqual(Array.from(l!.labels));
    let lOnly = 0;
    let mOnly = 0;
    for (let i = 0; i < 80; i++) {
      if (l!.correct[i] && !m!.correct[i]) lOnly++;
      if (!l!.correct[i] && m!.correct[i]) mOnly++;
    }
    const pair = paired.find((p) => p.policy === learned.name)!;
    expect(pair).toMatchObject({ against: mean.name, policyOnly: lOnly, againstOnly: mOnly });
    expect(pair.mcnemarP).toBe(mcnemarExact(lOnly, mOnly));
    expect(pair.accuracyDifference).toBeCloseTo(l!.metrics.accuracy - m!.metrics.accuracy, 12);
    const scaled = applyTemperature(l!.scores, 4, learned.temperature);
    expect(learned.calibrated.nll).toBeCloseTo(classificationMetrics(scaled, l!.labels, test.labels, 4).nll, 10);
    expect(learned.calibrated.accuracy).toBe(learned.metrics.accuracy);
  });
});

test('auroc (hand-worked, ties count half)', () => {
  expect(auroc([0.1, 0.4, 0.35, 0.8], [false, true, false, true])).toBe(1);
  expect(auroc([0.1, 0.4, 0.35, 0.8], [true, false, true, false])).toBe(0);
  expect(auroc([0.5, 0.5], [true, false])).toBe(0.5);
  // positives {0.4, 0.2}, negatives {0.3, 0.1}: pairs won 3 of 4
  expect(auroc([0.4, 0.2, 0.3, 0.1], [true, true, false, false])).toBe(0.75);
  expect(auroc([1, 2], [true, true])).toBeNaN();
});
