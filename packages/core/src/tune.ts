// Choosing a policy on validation data. Every distinct view in the search space is
// predicted once; each candidate is then a cheap merge of those predictions, so a
// grid of hundreds of policies costs no more forward passes than its views.
import type { Fill, Merge } from '@tta/native';
import { softVote } from '@tta/native';
import { described, outOfRangeError } from '@tta/util';
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
import { fitTemperature, applyTemperature } from './calibration';
import { LEARNED_SHAPES, fitLearnedWeights, outOfFoldLearnedMerge, type LearnedShape } from './learned';
import { classificationMetrics, correctness, type ClassificationMetrics } from './metrics';
import { toSource } from './images';
import {
  d4Views,
  fiveCropViews,
  formatView,
  formatViews,
  isIdentity,
  margins,
  multiscaleViews,
  usesFill,
  type Policy,
  type PolicyView,
} from './policies';
import { mcnemarExact } from './stats';

export interface TuneSearch {
  /** Shift sizes in pixels (default 1..4). */
  shifts?: number[];
  /**
   * Zoom factors besides 1 tried as multiscale families (with flips; zooms below 1 under each fill).
   * Default [0.9, 1.1] when the images are larger than the model input, else none.
   */
  zooms?: number[];
  /** Centre crop, five-crop and ten-crop at the model's input size. Default: when the images are larger. */
  crops?: boolean;
  /** The dihedral group d4 (quarter turns and flips: aerial, medical, microscopy images). Default false. */
  d4?: boolean;
  fills?: Fill[];
  merges?: Merge[];
  /** Weights of the identity view relative to 1 for each other view (default 1, 2, 4). */
  identityWeights?: number[];
  /** Largest view set built by greedy forward selection (default 8). */
  greedyMax?: number;
  /** Gated fractions tried for confidence-gated TTA (default 0.1 .. 0.9). */
  gateFractions?: number[];
  /** Learned merges tried, fitted out of fold on validation (default both shapes; [] for none). */
  learned?: LearnedShape[];
  /** Folds for scoring learned merges out of fold (default 5). */
  learnedFolds?: number;
  /**
   * How candidates are ranked: 'accuracy' (then cost, then NLL), or 'calibrated-nll': NLL after
   * each candidate's own temperature scaling (then cost), which also drives greedy selection (GPS).
   */
  rank?: TuneRank;
}

export const TUNE_RANKS = ['accuracy', 'calibrated-nll'] as const;
export type TuneRank = (typeof TUNE_RANKS)[number];

export interface Candidate {
  name: string;
  policy: Policy;
  /** Forward passes per image on the validation data (gated: 1 + share x others). */
  forwardPasses: number;
  identityWeight: number;
  gatedFraction?: number;
  accuracy: number;
  nll: number;
  ece: number;
  /** The candidate's temperature fitted on validation, and its NLL and ECE after scaling. */
  temperature: number;
  calibratedNll: number;
  calibratedEce: number;
  /** A learned merge: the mean merge of the same views, scored the same way, to compare against. */
  meanOfSameViews?: Candidate;
}

export interface TuneResult {
  rank: TuneRank;
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

/**
 * The search space's view families: for each fill and shift size, shifts without and with flip;
 * crops at the model's input size (centre, five, ten), multiscale zooms (with flips; the fill
 * matters for zooms below 1 only) and d4 when asked.
 */
export function candidateBases(
  search: Pick<TuneSearch, 'zooms' | 'crops' | 'd4'> & Required<Pick<TuneSearch, 'shifts' | 'fills'>>,
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
  if (search.crops) {
    const five = fiveCropViews();
    const flipped = five.map((v) => ({ ...v, flip: true }));
    bases.push({ name: 'center-crop', views: [five[0]!], fill: 'nearest' });
    bases.push({ name: 'center-crop flip', views: [five[0]!, flipped[0]!], fill: 'nearest' });
    bases.push({ name: 'five-crop', views: five, fill: 'nearest' });
    bases.push({ name: 'ten-crop', views: [...five, ...flipped], fill: 'nearest' });
  }
  const zooms = search.zooms ?? [];
  if (zooms.length > 0) {
    const views = multiscaleViews(zooms);
    const label = `multiscale z=${[1, ...zooms].join(',')}`;
    if (zooms.some((z) => z < 1))
      for (const fill of search.fills) bases.push({ name: `${label} ${fill}`, views, fill });
    else bases.push({ name: label, views, fill: 'nearest' });
  }
  if (search.d4) bases.push({ name: 'd4', views: d4Views(), fill: 'nearest' });
  return bases;
}

interface Score {
  accuracy: number;
  nll: number;
  ece: number;
  temperature: number;
  calibratedNll: number;
  calibratedEce: number;
  labels: Int32Array;
  gatedFraction: number;
}

interface Scorer {
  /** Without `calibrate`, no temperature is fitted (its fields are NaN): greedy steps ranked by plain NLL. */
  score(policy: Policy, calibrate?: boolean): Score;
  /** A learned merge of these views, fitted and scored out of fold; the policy carries weights fitted on all rows. */
  scoreLearned(views: PolicyView[], fill: Fill, shape: LearnedShape, name: string): { policy: Policy; score: Score };
}

function scoreMerged(
  scores: Float32Array,
  labels: Int32Array,
  truth: ArrayLike<number>,
  classes: number,
  calibrate = true,
) {
  const m = classificationMetrics(scores, labels, truth, classes);
  const t = calibrate ? fitTemperature(scores, truth, classes) : { temperature: NaN, nllAfter: NaN, eceAfter: NaN };
  return {
    accuracy: m.accuracy,
    nll: m.nll,
    ece: m.ece,
    temperature: t.temperature,
    calibratedNll: t.nllAfter,
    calibratedEce: t.eceAfter,
    labels,
  };
}

function scorer(
  views: Map<string, ViewPredictions>,
  truth: ArrayLike<number>,
  n: number,
  classes: number,
  learnedOptions: { folds: number; seed: number },
): Scorer {
  return {
    score(policy, calibrate = true) {
      const merged = mergeFromViews(policy, views, n, classes);
      return {
        ...scoreMerged(merged.scores, merged.labels, truth, classes, calibrate),
        gatedFraction: merged.gatedFraction,
      };
    },
    scoreLearned(policyViews, fill, shape, name) {
      const V = policyViews.length;
      const stacked = new Float32Array(V * n * classes);
      policyViews.forEach((view, v) => stacked.set(views.get(viewKey(view, fill))!.predictions, v * n * classes));
      const oof = outOfFoldLearnedMerge(stacked, [V, n, classes], truth, { shape, ...learnedOptions });
      const fit = fitLearnedWeights(stacked, [V, n, classes], truth, { shape });
      const policy: Policy = {
        name,
        views: policyViews,
        fill,
        merge: 'learned',
        learned: { shape: fit.shape, weights: fit.weights },
      };
      return { policy, score: { ...scoreMerged(oof.scores, oof.labels, truth, classes), gatedFraction: 1 } };
    },
  };
}

/** Better: higher accuracy, then fewer forward passes, then lower NLL. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.accuracy !== b.accuracy) return b.accuracy - a.accuracy;
  if (a.forwardPasses !== b.forwardPasses) return a.forwardPasses - b.forwardPasses;
  return a.nll - b.nll;
}

/** Better: lower NLL after temperature scaling, then fewer forward passes, then higher accuracy. */
export function compareCalibratedNll(a: Candidate, b: Candidate): number {
  if (a.calibratedNll !== b.calibratedNll) return a.calibratedNll - b.calibratedNll;
  if (a.forwardPasses !== b.forwardPasses) return a.forwardPasses - b.forwardPasses;
  return b.accuracy - a.accuracy;
}

export function candidateOrder(rank: TuneRank): (a: Candidate, b: Candidate) => number {
  return rank === 'calibrated-nll' ? compareCalibratedNll : compareCandidates;
}

/** The search space with every default filled in. */
export function resolveSearch(search: TuneSearch = {}): Required<Omit<TuneSearch, 'zooms' | 'crops' | 'd4'>> {
  return {
    shifts: search.shifts ?? [1, 2, 3, 4],
    fills: search.fills ?? ['nearest', 'reflect'],
    merges: search.merges ?? ['mean', 'gmean', 'max', 'vote'],
    identityWeights: search.identityWeights ?? [1, 2, 4],
    greedyMax: search.greedyMax ?? 8,
    gateFractions: search.gateFractions ?? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    learned: search.learned ?? [...LEARNED_SHAPES],
    learnedFolds: search.learnedFolds ?? 5,
    rank: search.rank ?? 'accuracy',
  };
}

/** Scores policies on the shared validation predictions and keeps every candidate scored. */
class CandidateList {
  readonly all: Candidate[] = [];
  constructor(
    readonly score: Scorer,
    readonly rank: TuneRank,
  ) {}

  /** Scores a policy (or takes a score made elsewhere) as a candidate, without listing it. */
  make(name: string, policy: Policy, identityWeight: number, s: Score = this.score.score(policy)): Candidate {
    const others = policy.views.filter((v) => !isIdentity(v)).length;
    const forwardPasses = policy.gate ? 1 + s.gatedFraction * others : policy.views.length;
    const candidate: Candidate = {
      name,
      policy,
      forwardPasses,
      identityWeight,
      accuracy: s.accuracy,
      nll: s.nll,
      ece: s.ece,
      temperature: s.temperature,
      calibratedNll: s.calibratedNll,
      calibratedEce: s.calibratedEce,
    };
    if (policy.gate) candidate.gatedFraction = s.gatedFraction;
    return candidate;
  }

  add(name: string, policy: Policy, identityWeight: number, s?: Score): Candidate {
    const candidate = this.make(name, policy, identityWeight, s);
    this.all.push(candidate);
    return candidate;
  }

  /** The best candidate by the ranking, among those `where` accepts. */
  best(where: (c: Candidate) => boolean = () => true): Candidate | undefined {
    return this.all.filter(where).sort(candidateOrder(this.rank))[0];
  }

  /** The figure greedy selection minimises: validation NLL, or NLL after temperature scaling. */
  greedyLoss(s: Score): number {
    return this.rank === 'calibrated-nll' ? s.calibratedNll : s.nll;
  }
}

/** Every view family of the search space under every merge mode and identity weight. */
function addGridCandidates(
  list: CandidateList,
  bases: ReturnType<typeof candidateBases>,
  search: Required<Pick<TuneSearch, 'merges' | 'identityWeights'>>,
): void {
  for (const base of bases) {
    const hasIdentity = base.views.some(isIdentity);
    for (const merge of search.merges) {
      // Identity weights only for families with the identity view (crops have none).
      for (const w of hasIdentity ? search.identityWeights : [1]) {
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
    let bestStep: { view: PolicyView; fill: Fill; nll: number; accuracy: number; loss: number } | undefined;
    for (const option of pool) {
      // One fill per policy: mixing fills is not expressible in a single policy.
      if (chosenFill && option.fill !== chosenFill && usesFill(option.view)) continue;
      if (chosen.some((v) => formatView(v) === formatView(option.view))) continue;
      const fill = usesFill(option.view) ? option.fill : (chosenFill ?? option.fill);
      const s = list.score.score(
        { name: 'greedy', views: [...chosen, option.view], fill, merge: 'mean' },
        list.rank === 'calibrated-nll',
      );
      const loss = list.greedyLoss(s);
      if (!bestStep || loss < bestStep.loss)
        bestStep = { view: option.view, fill, nll: s.nll, accuracy: s.accuracy, loss };
    }
    if (!bestStep) break;
    chosen.push(bestStep.view);
    if (usesFill(bestStep.view)) chosenFill = bestStep.fill;
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
  // Learned merges are scored out of fold; a gated one would be scored in sample, so none is gated.
  const ungated = list.best((c) => c.policy.merge !== 'learned')!;
  if (ungated.policy.views.length <= 1) return;
  const plainMargins = Array.from(margins(plainPredictions, classes)).sort((a, b) => a - b);
  for (const fraction of gateFractions) {
    const threshold = plainMargins[Math.min(n - 1, Math.floor(fraction * n))]!;
    const name = `${ungated.name} gated ${Math.round(fraction * 100)}%`;
    list.add(name, { ...ungated.policy, name, gate: { margin: threshold } }, ungated.identityWeight);
  }
}

/**
 * Learned merges (each shape) of the best ungated candidate's views and of the largest greedy
 * view set, each with the mean merge of the same views to be compared against.
 */
function addLearnedCandidates(list: CandidateList, shapes: readonly LearnedShape[]): void {
  const sources = [
    list.best((c) => c.policy.merge !== 'learned' && !c.policy.gate),
    [...list.all].reverse().find((c) => c.name.startsWith('greedy ')),
  ];
  const seen = new Set<string>();
  for (const source of sources) {
    if (!source || source.policy.views.length < 2) continue;
    const { views, fill } = source.policy;
    const key = `${formatViews(views)}@${fill}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const meanName = `mean over the views of ${source.name}`;
    const mean = list.make(meanName, { name: meanName, views, fill, merge: 'mean' }, 1);
    for (const shape of shapes) {
      const name = `learned${shape === 'view-class' ? ' per class' : ''} over the views of ${source.name}`;
      const { policy, score } = list.score.scoreLearned(views, fill, shape, name);
      list.add(name, policy, 1, score).meanOfSameViews = mean;
    }
  }
}

/** Leave-one-out: what each view of the chosen policy adds on validation. */
function leaveOneOutContributions(best: Candidate, score: Scorer): TuneResult['leaveOneOut'] {
  const leaveOneOut: TuneResult['leaveOneOut'] = [];
  // A learned merge's weights belong to its full view set.
  if (best.policy.views.length <= 1 || best.policy.merge === 'learned') return leaveOneOut;
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
  // Images larger than the model input: crops and zooms of them are the views worth trying.
  const source = toSource(validation);
  const [inputHeight, inputWidth] = classifier.inputShape;
  const larger = source.height > inputHeight || source.width > inputWidth;
  if (search.d4 && inputHeight !== inputWidth) {
    throw outOfRangeError(
      'search.d4',
      'a model with a square input (rotations by 90 and 270 turn h x w into w x h)',
      described(`a ${inputHeight}x${inputWidth} input`),
    );
  }
  const bases = candidateBases({
    ...space,
    zooms: search.zooms ?? (larger ? [0.9, 1.1] : []),
    crops: search.crops ?? larger,
    d4: search.d4 ?? false,
  });
  const basePolicies: Policy[] = bases.map((b) => ({ name: b.name, views: b.views, fill: b.fill, merge: 'mean' }));
  const predicted = await predictViews(classifier, validation, basePolicies, options);
  const { views, count: n } = predicted;
  // The rows are the images the source could read, in its order.
  const truth = Int32Array.from(predicted.indices, (i) => sourceTruth[i]!);
  const K = classifier.numClasses;
  const folds = Math.min(space.learnedFolds, n);
  const list = new CandidateList(scorer(views, truth, n, K, { folds, seed: options.seed ?? 0 }), space.rank);

  const baseline = list.add('none', { name: 'none', views: [ID], fill: 'nearest', merge: 'mean' }, 1);
  addGridCandidates(list, bases.slice(1), space);
  const greedy = addGreedyCandidates(list, bases, baseline, space.greedyMax);
  if (n >= 2 && folds >= 2) addLearnedCandidates(list, space.learned);
  addGatedCandidates(list, views.get('id')!.predictions, n, K, space.gateFractions);

  const best = list.best()!;
  best.policy = { ...best.policy, name: best.name };
  const leaveOneOut = leaveOneOutContributions(best, list.score);
  // The saved policy carries its validation temperature: its probabilities come out calibrated.
  best.policy.temperature = best.temperature;
  return {
    rank: space.rank,
    candidates: list.all,
    greedy,
    best,
    baseline,
    leaveOneOut,
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

/** One policy on the test set, with the temperature fitted for it on validation data. */
export interface TestedPolicy {
  /** What it is in the comparison: the chosen policy, a learned merge, its mean counterpart, or no TTA. */
  role: 'chosen' | 'learned' | 'mean of the same views' | 'plain';
  name: string;
  policy: Policy;
  temperature: number;
  /** Test metrics as merged, and after the validation temperature. */
  metrics: ClassificationMetrics;
  calibrated: ClassificationMetrics;
  correct: Uint8Array;
  labels: Int32Array;
  scores: Float32Array;
}

/** Paired comparison of two policies on the same test images (exact McNemar on the discordant pairs). */
export interface PairedComparison {
  policy: string;
  against: string;
  /** Images only `policy` gets right, and only `against` gets right. */
  policyOnly: number;
  againstOnly: number;
  accuracyDifference: number;
  /** Difference of NLL after each one's own validation temperature. */
  calibratedNllDifference: number;
  mcnemarP: number;
}

export function pairedComparison(a: TestedPolicy, b: TestedPolicy): PairedComparison {
  let policyOnly = 0;
  let againstOnly = 0;
  for (let i = 0; i < a.correct.length; i++) {
    if (a.correct[i] && !b.correct[i]) policyOnly++;
    else if (!a.correct[i] && b.correct[i]) againstOnly++;
  }
  return {
    policy: a.name,
    against: b.name,
    policyOnly,
    againstOnly,
    accuracyDifference: a.metrics.accuracy - b.metrics.accuracy,
    calibratedNllDifference: a.calibrated.nll - b.calibrated.nll,
    mcnemarP: mcnemarExact(policyOnly, againstOnly),
  };
}

/** The policies tested once after the choice: chosen, the best learned merge, their mean counterparts. */
function policiesToTest(tune: TuneResult): { role: TestedPolicy['role']; candidate: Candidate }[] {
  const tested: { role: TestedPolicy['role']; candidate: Candidate }[] = [{ role: 'chosen', candidate: tune.best }];
  // The best learned merge of each shape.
  const learned = tune.candidates.filter((c) => c.policy.merge === 'learned').sort(candidateOrder(tune.rank));
  const shapes = new Set<string>();
  for (const candidate of learned) {
    if (shapes.has(candidate.policy.learned!.shape)) continue;
    shapes.add(candidate.policy.learned!.shape);
    if (candidate !== tune.best) tested.push({ role: 'learned', candidate });
  }
  for (const { candidate } of [...tested]) {
    const mean = candidate.meanOfSameViews;
    if (mean && !tested.some((t) => t.candidate === mean))
      tested.push({ role: 'mean of the same views', candidate: mean });
  }
  return tested;
}

/**
 * The whole tuning protocol: choose on validation data, then evaluate the choice
 * (and the no-TTA baseline) once on the test set. The test labels are read only
 * after the choice is made; `onChosen` runs at that point (tests use it to prove it).
 * Each tested policy gets the temperature fitted for it on validation data; a learned merge is
 * paired against the mean merge of the same views.
 */
export async function tuneThenTest(
  classifier: Classifier,
  validation: Images & { labels: ArrayLike<number> },
  test: Images & { labels: ArrayLike<number> },
  search: TuneSearch = {},
  options: EvaluateOptions & { onChosen?: (best: Candidate) => void } = {},
): Promise<{ tune: TuneResult; test: Evaluation; tested: TestedPolicy[]; paired: PairedComparison[] }> {
  const tune = await tunePolicy(classifier, validation, validation.labels, search, options);
  options.onChosen?.(tune.best);
  const chosen = policiesToTest(tune);
  // Merged without temperature; each one's validation temperature is applied below.
  const raw = chosen.map(({ candidate }) => ({ ...candidate.policy, name: candidate.name, temperature: undefined }));
  const evaluation = await evaluatePolicies(classifier, test, test.labels, raw, options);
  const K = classifier.numClasses;
  const testedOf = (role: TestedPolicy['role'], run: Evaluation['runs'][number], temperature: number) => {
    const calibratedScores = applyTemperature(run.scores, K, temperature);
    return {
      role,
      name: run.policy.name,
      policy: run.policy,
      temperature,
      metrics: run.metrics,
      // A temperature never changes a label.
      calibrated: classificationMetrics(calibratedScores, run.labels, evaluation.truth, K),
      correct: correctness(run.labels, evaluation.truth),
      labels: run.labels,
      scores: run.scores,
    };
  };
  const tested: TestedPolicy[] = [
    testedOf('plain', evaluation.baseline, tune.baseline.temperature),
    ...chosen.map(({ role, candidate }, i) => testedOf(role, evaluation.runs[i]!, candidate.temperature)),
  ];
  const paired: PairedComparison[] = [];
  chosen.forEach(({ candidate }, i) => {
    const against = candidate.meanOfSameViews && chosen.findIndex((c) => c.candidate === candidate.meanOfSameViews);
    if (against !== undefined && against >= 0) paired.push(pairedComparison(tested[i + 1]!, tested[against + 1]!));
  });
  return { tune, test: evaluation, tested, paired };
}
