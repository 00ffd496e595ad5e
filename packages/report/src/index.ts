// A self-contained HTML report (inline CSS and SVG, no scripts, no network) of
// `tta eval` and `tta tune` results.
export { renderReport, bestPolicy, CIFAR10_CLASSES } from './render';
export { writeReport } from './write';
export { paretoFrontier } from './charts';
export { escapeHtml } from './format';
export { encodePng, pngDataUri } from './png';
export type {
  DataDescription,
  DisagreementRow,
  EvalReport,
  FlipCounts,
  GalleryInput,
  GalleryItem,
  LearnedWeights,
  PairedComparison,
  TestedPolicy,
  GreedyStep,
  LeaveOneOut,
  LiftSpread,
  MaybeNumber,
  PolicySummary,
  ReliabilityBin,
  ReportInput,
  ReportMeta,
  Spread,
  TuneCandidate,
  TuneReport,
} from './types';
