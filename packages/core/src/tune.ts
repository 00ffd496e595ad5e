// Choosing a policy on validation data. Every distinct view in the search space is
// predicted once; each candidate is then a cheap merge of those predictions, so a
// grid of hundreds of policies costs no more forward passes than its views.
import type { Fill, Merge } from '@tta/native';
import { softVote } from '@tta/native';
import type { Classifier } from './engine';
import type { Images } from './images';
import {
  evaluatePolicies,
  mergeFromViews,
  predictViews,
  viewKey,
  type EvaluateOptions,
  type Evaluation,
  type ViewPredictions,
} from './evaluate';
import { classificationMetrics } from './metrics';
import { formatView, formatViews, isIdentity, margins, type Policy, type PolicyView } from './policies';

export interface TuneSearch {
  /** Shift sizes in pixels (default 1..4). */
  shifts?: number[];
  fills?: Fill[];
  merges?: Merge[];
  /** Weights of the identity view relative to 1 for each other view (default 1, 2, 4). */
  identityWeights?: number[];
  /** Largest view set built by greedy forward selection (default 8). */
  greedyMax?: number;
  /** Gated fractions tried for confidence-gated TTA (default 0.1 .. 0.9). */
  gateFractions?: number[];
}

export interface Candidate {
  name: string;
  policy: Policy;
  /** Forward passes per image on the validation data (gated: 1 + share x others). */
  forwardPasses: number;
  identityWeight: number;
  gatedFraction?: number;
  accuracy: number;
  nll: number;
}

export interface TuneResult {
  candidates: Candidate[];
  greedy: { size: number; viewSpec: string; accuracy: number; nll: number }[];
  best: Candidate;
  baseline: Candidate;
  leaveOneOut: { view: string; accuracyDrop: number; nllIncrease: number }[];
  disagreement: { mean: number; errorAuroc: number; byLevel: { level: number; count: number; accuracy: number }[] };
  views: Map<string, ViewPredictions>;
}

const ID: PolicyView = { flip: false, dx: 0, dy: 0 };
const FLIP: PolicyView = { flip: true, dx: 0, dy: 0 };

function shiftViews(s: number, flip: boolean): PolicyView[] {
  return (
    [
      [s, 0],
      [-s, 0],
      [0, s],
      [0, -s],
    ] as const
  ).map(([dx, dy]) => ({ flip, dx, dy }));
}

/** The search space's view families: for each fill and shift size, shifts without and with flip. */
export function candidateBases(
  search: Required<Pick<TuneSearch, 'shifts' | 'fills'>>,
): { name: string; views: PolicyView[]; fill: Fill }[] {
  const bases: { name: string; views: PolicyView[]; fill: Fill }[] = [
    { name: 'none', views: [ID], fill: 'nearest' },
    { name: 'flip', views: [ID, FLIP], fill: 'nearest' },
  ];
  for (const fill of search.fills) {
    for (const s of search.shifts) {
      bases.push({ name: `shift s=${s} ${fill}`, views: [ID, ...shiftViews(s, false)], fill });
      bases.push({
        name: `flip-shift s=${s} ${fill}`,
        views: [ID, FLIP, ...shiftViews(s, false), ...shiftViews(s, true)],
        fill,
      });
    }
  }
  return bases;
}

interface Scorer {
  score(policy: Policy): { accuracy: number; nll: number; labels: Int32Array; gatedFraction: number };
}

function scorer(views: Map<string, ViewPredictions>, truth: ArrayLike<number>, n: number, classes: number): Scorer {
  return {
    score(policy) {
      const merged = mergeFromViews(policy, views, n, classes);
      const m = classificationMetrics(merged.scores, merged.labels, truth, classes);
      return { accuracy: m.accuracy, nll: m.nll, labels: merged.labels, gatedFraction: merged.gatedFraction };
    },
  };
}

/** Better: higher accuracy, then fewer forward passes, then lower NLL. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.accuracy !== b.accuracy) return b.accuracy - a.accuracy;
  if (a.forwardPasses !== b.forwardPasses) return a.forwardPasses - b.forwardPasses;
  return a.nll - b.nll;
}

/** The search space with every default filled in. */
export function resolveSearch(search: TuneSearch = {}): Required<TuneSearch> {
  return {
    shifts: search.shifts ?? [1, 2, 3, 4],
    fills: search.fills ?? ['nearest', 'reflect'],
    merges: search.merges ?? ['mean', 'gmean', 'max', 'vote'],
    identityWeights: search.identityWeights ?? [1, 2, 4],
    greedyMax: search.greedyMax ?? 8,
    gateFractions: search.gateFractions ?? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  };
}

/** Scores policies on the shared validation predictions and keeps every candidate scored. */
class CandidateList {
  readonly all: Candidate[] = [];
  constructor(readonly score: Scorer) {}

  add(name: string, policy: Policy, identityWeight: number): Candidate {
    const s = this.score.score(policy);
    const others = policy.views.filter((v) => !isIdentity(v)).length;
    const forwardPasses = policy.gate ? 1 + s.gatedFraction * others : policy.views.length;
    const candidate: Candidate = { name, policy, forwardPasses, identityWeight, accuracy: s.accuracy, nll: s.nll };
    if (policy.gate) candidate.gatedFraction = s.gatedFraction;
    this.all.push(candidate);
    return candidate;
  }

  best(): Candidate {
    return [...this.all].sort(compareCandidates)[0]!;
  }
}

/** Every view family of the search space under every merge mode and identity weight. */
function addGridCandidates(
  list: CandidateList,
  bases: ReturnType<typeof candidateBases>,
  search: Required<TuneSearch>,
): void {
  for (const base of bases) {
    for (const merge of search.merges) {
      for (const w of search.identityWeights) {
        const weights = base.views.map((v) => (isIdentity(v) ? w : 1));
        const name = `${base.name} ${merge}${w !== 1 ? ` w_id=${w}` : ''}`;
        list.add(name, { name, views: base.views, fill: base.fill, merge, weights: w !== 1 ? weights : undefined }, w);
      }
    }
  }
}

/** Every distinct non-identity view of the search space, with the fill it is predicted under. */
function viewPool(bases: ReturnType<typeof candidateBases>): { view: PolicyView; fill: Fill }[] {
  const pool: { view: PolicyView; fill: Fill }[] = [];
  const seen = new Set<string>();
  for (const b of bases) {
    for (const view of b.views) {
      const key = `${formatView(view)}@${b.fill}`;
      if (!seen.has(key) && !isIdentity(view)) {
        seen.add(key);
        pool.push({ view, fill: b.fill });
      }
    }
  }
  return pool;
}

/**
 * Greedy forward selection by validation NLL (mean merge), from the identity view: each step
 * adds the view that lowers NLL most, and each view set it reaches becomes a candidate.
 */
function addGreedyCandidates(
  list: CandidateList,
  bases: ReturnType<typeof candidateBases>,
  baseline: Candidate,
  greedyMax: number,
): TuneResult['greedy'] {
  const pool = viewPool(bases);
  const greedy: TuneResult['greedy'] = [];
  const chosen: PolicyView[] = [ID];
  let chosenFill: Fill | undefined;
  greedy.push({ size: 1, viewSpec: 'id', accuracy: baseline.accuracy, nll: baseline.nll });
  while (chosen.length < greedyMax) {
    let bestStep: { view: PolicyView; fill: Fill; nll: number; accuracy: number } | undefined;
    for (const option of pool) {
      // One fill per policy: mixing fills is not expressible in a single policy.
      if (chosenFill && option.fill !== chosenFill && (option.view.dx || option.view.dy)) continue;
      if (chosen.some((v) => formatView(v) === formatView(option.view))) continue;
      const fill = option.view.dx || option.view.dy ? option.fill : (chosenFill ?? option.fill);
      const s = list.score.score({ name: 'greedy', views: [...chosen, option.view], fill, merge: 'mean' });
      if (!bestStep || s.nll < bestStep.nll) bestStep = { view: option.view, fill, nll: s.nll, accuracy: s.accuracy };
    }
    if (!bestStep) break;
    chosen.push(bestStep.view);
    if (bestStep.view.dx || bestStep.view.dy) chosenFill = bestStep.fill;
    const spec = formatViews(chosen);
    greedy.push({ size: chosen.length, viewSpec: spec, accuracy: bestStep.accuracy, nll: bestStep.nll });
    const name = `greedy ${chosen.length} views`;
    list.add(name, { name, views: [...chosen], fill: chosenFill ?? 'nearest', merge: 'mean' }, 1);
  }
  return greedy;
}

/** Confidence-gated versions of the best ungated candidate: thresholds at quantiles of the plain margin. */
function addGatedCandidates(
  list: CandidateList,
  plainPredictions: Float32Array,
  n: number,
  classes: number,
  gateFractions: readonly number[],
): void {
  const ungated = list.best();
  if (ungated.policy.views.length <= 1) return;
  const plainMargins = Array.from(margins(plainPredictions, classes)).sort((a, b) => a - b);
  for (const fraction of gateFractions) {
    const threshold = plainMargins[Math.min(n - 1, Math.floor(fraction * n))]!;
    const name = `${ungated.name} gated ${Math.round(fraction * 100)}%`;
    list.add(name, { ...ungated.policy, name, gate: { margin: threshold } }, ungated.identityWeight);
  }
}

/** Leave-one-out: what each view of the chosen policy adds on validation. */
function leaveOneOutContributions(best: Candidate, score: Scorer): TuneResult['leaveOneOut'] {
  const leaveOneOut: TuneResult['leaveOneOut'] = [];
  if (best.policy.views.length <= 1) return leaveOneOut;
  best.policy.views.forEach((view, v) => {
    const rest = best.policy.views.filter((_, u) => u !== v);
    const weights = best.policy.weights?.filter((_, u) => u !== v);
    if (policyNeedsIdentity(best.policy) && !rest.some(isIdentity)) return;
    const s = score.score({ ...best.policy, views: rest, weights });
    leaveOneOut.push({
      view: formatView(view),
      accuracyDrop: best.accuracy - s.accuracy,
      nllIncrease: s.nll - best.nll,
    });
  });
  return leaveOneOut;
}

/**
 * Chooses a policy on validation images (a batch or a source) whose true classes are
 * `sourceTruth`, by source index: every view of the search space is predicted once, then
 * the grid, the greedy view sets and gated variants are scored as merges of those predictions.
 */
export async function tunePolicy(
  classifier: Classifier,
  validation: Images,
  sourceTruth: ArrayLike<number>,
  search: TuneSearch = {},
  options: EvaluateOptions = {},
): Promise<TuneResult> {
  const space = resolveSearch(search);
  const bases = candidateBases(space);
  const basePolicies: Policy[] = bases.map((b) => ({ name: b.name, views: b.views, fill: b.fill, merge: 'mean' }));
  const predicted = await predictViews(classifier, validation, basePolicies, options);
  const { views, count: n } = predicted;
  // The rows are the images the source could read, in its order.
  const truth = Int32Array.from(predicted.indices, (i) => sourceTruth[i]!);
  const K = classifier.numClasses;
  const list = new CandidateList(scorer(views, truth, n, K));

  const baseline = list.add('none', { name: 'none', views: [ID], fill: 'nearest', merge: 'mean' }, 1);
  addGridCandidates(list, bases.slice(1), space);
  const greedy = addGreedyCandidates(list, bases, baseline, space.greedyMax);
  addGatedCandidates(list, views.get('id')!.predictions, n, K, space.gateFractions);

  const best = list.best();
  best.policy = { ...best.policy, name: best.name };
  return {
    candidates: list.all,
    greedy,
    best,
    baseline,
    leaveOneOut: leaveOneOutContributions(best, list.score),
    disagreement: disagreement(best.policy, views, truth, n, K),
    views,
  };
}

function policyNeedsIdentity(policy: Policy): boolean {
  return policy.gate !== undefined;
}

/**
 * Per-image disagreement between views: the share of the policy's views whose own
 * top class differs from the merged label. An uncertainty score: the AUROC says
 * how well it ranks the merged prediction's errors above its hits.
 */
export function disagreement(
  policy: Policy,
  views: Map<string, ViewPredictions>,
  truth: ArrayLike<number>,
  n: number,
  classes: number,
): TuneResult['disagreement'] {
  const ungated = { ...policy, gate: undefined };
  const merged = mergeFromViews(ungated, views, n, classes);
  const perView = policy.views.map(
    (view) => softVote(views.get(viewKey(view, policy.fill))!.predictions, [1, n, classes]).labels,
  );
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let differ = 0;
    for (const labels of perView) if (labels[i] !== merged.labels[i]) differ++;
    score[i] = differ / perView.length;
  }
  const wrong = Array.from({ length: n }, (_, i) => merged.labels[i] !== truth[i]);
  const levels = new Map<number, { count: number; hits: number }>();
  for (let i = 0; i < n; i++) {
    const entry = levels.get(score[i]!) ?? { count: 0, hits: 0 };
    entry.count++;
    if (!wrong[i]) entry.hits++;
    levels.set(score[i]!, entry);
  }
  return {
    mean: score.reduce((a, b) => a + b, 0) / Math.max(1, n),
    errorAuroc: auroc(score, wrong),
    byLevel: [...levels.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([level, e]) => ({ level, count: e.count, accuracy: e.hits / e.count })),
  };
}

/** Area under the ROC curve of `score` for `positive`, ties counted half (Mann-Whitney U). */
export function auroc(score: ArrayLike<number>, positive: readonly boolean[]): number {
  const order = Array.from({ length: positive.length }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && score[order[j]!] === score[order[i]!]) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (positive[order[k]!]) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j;
  }
  const negatives = positive.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * The whole tuning protocol: choose on validation data, then evaluate the choice
 * (and the no-TTA baseline) once on the test set. The test labels are read only
 * after the choice is made; `onChosen` runs at that point (tests use it to prove it).
 */
export async function tuneThenTest(
  classifier: Classifier,
  validation: Images & { labels: ArrayLike<number> },
  test: Images & { labels: ArrayLike<number> },
  search: TuneSearch = {},
  options: EvaluateOptions & { onChosen?: (best: Candidate) => void } = {},
): Promise<{ tune: TuneResult; test: Evaluation }> {
  const tune = await tunePolicy(classifier, validation, validation.labels, search, options);
  options.onChosen?.(tune.best);
  const evaluation = await evaluatePolicies(classifier, test, test.labels, [tune.best.policy], options);
  return { tune, test: evaluation };
}
