// The report's inputs: the JSON that `tta eval --json` (tta-eval/1) and
// `tta tune --json` (tta-tune/1) write, or the same objects before serialisation.
// Numbers may be NaN (in memory) or null (after JSON), and optional parts may be
// missing; the renderer shows "—" for all of those.

export type MaybeNumber = number | null | undefined;

export interface Spread {
  mean: MaybeNumber;
  std?: MaybeNumber;
  runs?: MaybeNumber[];
}

export interface LiftSpread extends Spread {
  ci95?: [MaybeNumber, MaybeNumber] | null;
  mcnemarP?: MaybeNumber;
}

export interface ReliabilityBin {
  /** Confidence range (lo, hi]. */
  lo: number;
  hi: number;
  count: number;
  /** Mean confidence and accuracy of the bin's images (null/NaN when empty). */
  confidence: MaybeNumber;
  accuracy: MaybeNumber;
}

export interface FlipCounts {
  /** Images the baseline got right and the policy got wrong. */
  correctToWrong: MaybeNumber;
  wrongToCorrect: MaybeNumber;
}

export interface PolicySummary {
  name: string;
  views?: MaybeNumber;
  forwardPasses?: MaybeNumber;
  viewSpec?: string;
  merge?: string;
  fill?: string;
  accuracy: Spread;
  top5?: Spread | null;
  lift?: LiftSpread | null;
  nll?: MaybeNumber;
  ece?: MaybeNumber;
  brier?: MaybeNumber;
  perClass?: MaybeNumber[] | null;
  reliability?: ReliabilityBin[] | null;
  flips?: (FlipCounts & { perClass?: FlipCounts[] | null }) | null;
  timing?: {
    seconds?: MaybeNumber;
    imagesPerSecond?: MaybeNumber;
    otherShare?: MaybeNumber;
    forwardPasses?: MaybeNumber;
  } | null;
}

export interface DataDescription {
  name?: string;
  source?: string;
  train?: MaybeNumber;
  validation?: MaybeNumber;
  test?: MaybeNumber;
}

/** Schema 'tta-eval/1'. */
export interface EvalReport {
  schema: string;
  backend?: string;
  data?: DataDescription;
  model?: Record<string, unknown>;
  /** Models trained with different seeds; each policy's accuracy std is over these. */
  repeats?: MaybeNumber;
  evaluationSeconds?: MaybeNumber;
  /** The same model(s) without TTA. */
  baseline: PolicySummary;
  policies: PolicySummary[];
}

export interface TuneCandidate {
  name: string;
  viewSpec?: string;
  /** Per image, on the validation data (gated policies: 1 + gated share x the other views). */
  forwardPasses: MaybeNumber;
  fill?: string;
  merge?: string;
  identityWeight?: MaybeNumber;
  gate?: { margin?: MaybeNumber; gatedFraction?: MaybeNumber } | null;
  /** Validation accuracy and NLL. */
  accuracy: MaybeNumber;
  nll?: MaybeNumber;
  ece?: MaybeNumber;
  /** The candidate's temperature fitted on validation NLL, and its NLL and ECE after scaling. */
  temperature?: MaybeNumber;
  calibratedNll?: MaybeNumber;
  calibratedEce?: MaybeNumber;
  /** A learned merge: its weights per view ('view') or per view and class ('view-class', view-major). */
  learned?: LearnedWeights | null;
  meanOfSameViews?: string;
}

export interface LearnedWeights {
  shape: string;
  weights: MaybeNumber[];
  /** The view of each weight row, e.g. 'id', 'flip+dx=1'. */
  views?: string[];
}

/** One policy on the test set, before and after its validation temperature. */
export interface TestedPolicy {
  role: string;
  name: string;
  viewSpec?: string;
  merge?: string;
  temperature?: MaybeNumber;
  test?: { accuracy?: MaybeNumber; nll?: MaybeNumber; ece?: MaybeNumber; brier?: MaybeNumber } | null;
  calibrated?: { accuracy?: MaybeNumber; nll?: MaybeNumber; ece?: MaybeNumber; brier?: MaybeNumber } | null;
}

/** Two policies on the same test images: exact McNemar on the images only one gets right. */
export interface PairedComparison {
  policy: string;
  against: string;
  policyOnly: MaybeNumber;
  againstOnly: MaybeNumber;
  accuracyDifference: MaybeNumber;
  calibratedNllDifference?: MaybeNumber;
  mcnemarP: MaybeNumber;
}

/** Test images the chosen policy fixed (plain wrong, TTA right) and broke, with thumbnails. */
export interface GalleryInput {
  policy: string;
  /** How many images it fixed and broke in all (the items are the first of each). */
  fixed?: MaybeNumber;
  broke?: MaybeNumber;
  items: GalleryItem[];
}

export interface GalleryItem {
  kind: 'fixed' | 'broke';
  index: number;
  truth: number;
  plain: { label: number; probability: MaybeNumber };
  tta: { label: number; probability: MaybeNumber };
  /** 8-bit pixels, rows top to bottom, channels interleaved (1, 3 or 4). */
  image: { width: number; height: number; channels: number; pixels: Uint8Array | number[] };
}

export interface GreedyStep {
  size: MaybeNumber;
  viewSpec?: string;
  accuracy: MaybeNumber;
  nll?: MaybeNumber;
}

export interface LeaveOneOut {
  view: string;
  accuracyDrop: MaybeNumber;
  nllIncrease?: MaybeNumber;
}

/** Accuracy of the images whose view disagreement is at a level (or up to a quantile). */
export interface DisagreementRow {
  level?: MaybeNumber;
  upTo?: MaybeNumber;
  accuracy: MaybeNumber;
  count: MaybeNumber;
}

/** Schema 'tta-tune/1'. */
export interface TuneReport {
  schema: string;
  backend?: string;
  data?: DataDescription;
  model?: Record<string, unknown>;
  candidates: TuneCandidate[];
  greedy?: GreedyStep[] | null;
  best: TuneCandidate & {
    validation?: { accuracy?: MaybeNumber; nll?: MaybeNumber } | null;
    /** The chosen policy, evaluated once on the test set. */
    test?: PolicySummary | null;
    /** No TTA, on the test set. */
    baseline?: PolicySummary | null;
  };
  leaveOneOut?: LeaveOneOut[] | null;
  disagreement?: {
    mean?: MaybeNumber;
    errorAuroc?: MaybeNumber;
    byLevel?: DisagreementRow[] | null;
    byQuantile?: DisagreementRow[] | null;
  } | null;
  policyFile?: string;
  rank?: string;
  tested?: TestedPolicy[] | null;
  paired?: PairedComparison[] | null;
}

export interface ReportMeta {
  /** The command line that produced the results. */
  command: string;
  /** ISO 8601 time. */
  generatedAt: string;
  versions: Record<string, string>;
  config?: Record<string, unknown>;
}

export interface ReportInput {
  eval?: EvalReport;
  tune?: TuneReport;
  /** tta tune: thumbnails of test images TTA fixed and broke. */
  gallery?: GalleryInput | null;
  /** Names of the classes, in label order (default: CIFAR-10's for cifar10 data, else "class k"). */
  classNames?: string[];
  meta: ReportMeta;
}
