import { seededRandom } from '@tta/util';
import { predictWithTta } from '../src/engine';
import type { ImageBatch } from '../src/images';
import { classificationMetrics } from '../src/metrics';
import { auroc, compareCandidates, tunePolicy, tuneThenTest, type Candidate } from '../src/tune';
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
    const sample = result.candidates.filter((_, i) => i % 7 === 0 || result.candidates[i]!.policy.gate);
    expect(sample.some((c) => c.policy.gate)).toBe(true);
    for (const c of sample) {
      const direct = await predictWithTta(classifier(), val, c.policy, { chunkSize: 25 });
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
