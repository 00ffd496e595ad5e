// Small fake tta-eval/1 and tta-tune/1 results for the report's tests: plausible
// CIFAR-10-like numbers from a seeded generator, following the schemas.
import type { EvalReport, PolicySummary, ReliabilityBin, ReportInput, TuneCandidate, TuneReport } from '../src/types';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function reliability(random: () => number, sharpness: number): ReliabilityBin[] {
  return Array.from({ length: 15 }, (_, b) => {
    const lo = b / 15;
    const hi = (b + 1) / 15;
    const count = b < 2 ? 0 : Math.round(40 + 900 * (b / 15) ** sharpness * random());
    const confidence = count ? (lo + hi) / 2 : null;
    return {
      lo,
      hi,
      count,
      confidence,
      accuracy: count ? Math.min(1, Math.max(0, (lo + hi) / 2 - 0.06 + 0.08 * random())) : null,
    };
  });
}

export function summary(
  name: string,
  accuracy: number,
  options: { seed: number; repeats?: number; baseline?: PolicySummary; views?: number; classes?: number },
): PolicySummary {
  const random = lcg(options.seed);
  const repeats = options.repeats ?? 2;
  const classes = options.classes ?? 10;
  const runs = Array.from({ length: repeats }, (_, r) => accuracy + (r - (repeats - 1) / 2) * 0.006);
  const lift = options.baseline ? accuracy - (options.baseline.accuracy.mean as number) : 0;
  const perClass = Array.from({ length: classes }, (_, k) =>
    Math.min(1, Math.max(0, accuracy + 0.15 * Math.sin(k + 1) + 0.02 * (random() - 0.5))),
  );
  const flipsPerClass = Array.from({ length: classes }, () => ({
    correctToWrong: Math.round(5 + 20 * random()),
    wrongToCorrect: Math.round(10 + 30 * random()),
  }));
  const views = options.views ?? 1;
  return {
    name,
    views,
    forwardPasses: views,
    viewSpec:
      views === 1
        ? 'id'
        : ['id', 'flip', 'dx=1', 'dx=-1', 'dy=1', 'dy=-1', 'flip+dx=1', 'flip+dx=-1'].slice(0, views).join(','),
    merge: 'mean',
    fill: 'nearest',
    accuracy: { mean: accuracy, std: repeats > 1 ? 0.0042 : 0, runs },
    lift: {
      mean: lift,
      std: 0.001,
      runs: runs.map(() => lift),
      ci95: [lift - 0.004, lift + 0.004],
      mcnemarP: options.baseline ? 3e-5 : 1,
    },
    nll: 0.95 - accuracy / 2,
    ece: 0.02 + 0.02 * random(),
    brier: 0.45 - accuracy / 5,
    perClass,
    reliability: reliability(random, 2 + views / 4),
    flips: options.baseline
      ? {
          correctToWrong: flipsPerClass.reduce((a, f) => a + f.correctToWrong, 0),
          wrongToCorrect: flipsPerClass.reduce((a, f) => a + f.wrongToCorrect, 0),
          perClass: flipsPerClass,
        }
      : {
          correctToWrong: 0,
          wrongToCorrect: 0,
          perClass: flipsPerClass.map(() => ({ correctToWrong: 0, wrongToCorrect: 0 })),
        },
    timing: { seconds: 2 * views, imagesPerSecond: 5000 / views, otherShare: 0.02, forwardPasses: views },
  };
}

export function evalFixture(options: { repeats?: number; policyNames?: string[] } = {}): EvalReport {
  const repeats = options.repeats ?? 2;
  const baseline = summary('none', 0.684, { seed: 1, repeats });
  const names = options.policyNames ?? ['flip', 'flip-shift', 'shift', 'zoom'];
  const accs = [0.701, 0.712, 0.689, 0.662];
  const views = [2, 7, 5, 5];
  return {
    schema: 'tta-eval/1',
    backend: 'native',
    data: { name: 'cifar10', source: '/data/cifar-10-batches-bin', train: 50000, test: 10000 },
    model: {
      architecture: 'reference-cnn',
      epochs: 3,
      batchSize: 128,
      seeds: [0, 1].slice(0, repeats),
      runs: [{ source: 'cache', dir: '/cache/model-0' }],
    },
    repeats,
    evaluationSeconds: 12.3,
    baseline,
    policies: names.map((name, i) =>
      summary(name, accs[i % accs.length]!, { seed: 10 + i, repeats, baseline, views: views[i % views.length] }),
    ),
  };
}

export function tuneFixture(): TuneReport {
  const random = lcg(7);
  const candidates: TuneCandidate[] = [
    {
      name: 'none',
      viewSpec: 'id',
      forwardPasses: 1,
      fill: 'nearest',
      merge: 'mean',
      identityWeight: 1,
      accuracy: 0.68,
      nll: 0.93,
    },
  ];
  for (const merge of ['mean', 'gmean', 'max', 'vote']) {
    for (const views of [2, 3, 5, 7, 9]) {
      candidates.push({
        name: `flip-shift s=${views} reflect ${merge} w_id=1`,
        viewSpec: 'id,flip',
        forwardPasses: views,
        fill: 'reflect',
        merge,
        identityWeight: 1,
        accuracy: 0.68 + 0.02 * Math.log(views) - (merge === 'max' ? 0.01 : 0) + 0.004 * random(),
        nll: 0.9 - 0.02 * Math.log(views) + 0.01 * random(),
      });
    }
  }
  candidates.push({
    name: 'gated flip-shift',
    viewSpec: 'id,flip,dx=1',
    forwardPasses: 2.2,
    fill: 'reflect',
    merge: 'mean',
    identityWeight: 1,
    gate: { margin: 0.3, gatedFraction: 0.3 },
    accuracy: 0.705,
    nll: 0.87,
  });
  const best = candidates.reduce((a, c) => ((c.accuracy as number) > (a.accuracy as number) ? c : a));
  const baseline = summary('none', 0.684, { seed: 1, repeats: 1 });
  const test = summary(best.name, 0.706, { seed: 3, repeats: 1, baseline, views: best.forwardPasses as number });
  return {
    schema: 'tta-tune/1',
    backend: 'native',
    data: { name: 'cifar10', source: '/data/cifar-10-batches-bin', train: 45000, validation: 5000, test: 10000 },
    model: { architecture: 'reference-cnn', epochs: 3, batchSize: 128, seed: 0, source: 'trained', dir: '/cache/m' },
    candidates,
    greedy: [
      { size: 1, viewSpec: 'id', accuracy: 0.68, nll: 0.93 },
      { size: 2, viewSpec: 'id,flip', accuracy: 0.695, nll: 0.9 },
      { size: 3, viewSpec: 'id,flip,dx=1', accuracy: 0.699, nll: 0.89 },
      { size: 4, viewSpec: 'id,flip,dx=1,flip+dx=-1', accuracy: 0.702, nll: 0.885 },
      { size: 5, viewSpec: 'id,flip,dx=1,flip+dx=-1,dy=1', accuracy: 0.701, nll: 0.884 },
    ],
    best: { ...best, validation: { accuracy: best.accuracy, nll: best.nll }, test, baseline },
    leaveOneOut: [
      { view: 'id', accuracyDrop: 0.004, nllIncrease: 0.01 },
      { view: 'flip', accuracyDrop: 0.009, nllIncrease: 0.02 },
      { view: 'dx=2', accuracyDrop: -0.001, nllIncrease: -0.002 },
    ],
    disagreement: {
      mean: 0.12,
      errorAuroc: 0.78,
      byLevel: [
        { level: 0, count: 3800, accuracy: 0.82 },
        { level: 0.5, count: 900, accuracy: 0.41 },
        { level: 1, count: 300, accuracy: 0.2 },
      ],
    },
    policyFile: 'best-policy.json',
  };
}

export function meta(): ReportInput['meta'] {
  return {
    command: 'tta eval --policies flip,flip-shift --repeats 2 --html report.html',
    generatedAt: '2026-11-28T17:00:00.000Z',
    versions: { node: '20.19.0', '@tta/cli': '0.1.0', '@tensorflow/tfjs-core': '4.22.0' },
    config: {
      epochs: 3,
      batchSize: 128,
      repeats: 2,
      policies: ['flip', 'flip-shift'],
      fill: 'nearest',
      merge: 'mean',
      seed: 0,
      html: 'report.html',
      nested: { a: 1 },
      missing: undefined,
      nan: NaN,
    },
  };
}
