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
  /** Names of the classes, in label order (default: CIFAR-10's for cifar10 data, else "class k"). */
  classNames?: string[];
  meta: ReportMeta;
}
