export {
  TFJS_VERSION,
  selectBackend,
  currentBackend,
  wasmBinariesDir,
  tensorflowInstallProblem,
  BackendUnavailableError,
  BACKEND_NAMES,
  AUTO_ORDER,
} from './backend';
export type { BackendName, BackendSelection, SelectBackendOptions } from './backend';
export { conv2dBackpropFilterComposed, registerWasmTrainingKernels } from './wasm-kernels';
export {
  createModel,
  createReferenceCnn,
  listArchitectures,
  registerArchitecture,
  compileForClassification,
  modelInputShape,
  modelNumClasses,
} from './architectures';
export type { Architecture, ModelOptions } from './architectures';
export { train } from './train';
export type {
  AugmentTrainingOptions,
  ImageSplit,
  TrainHistory,
  TrainOptions,
  TrainProgress,
  TrainResult,
} from './train';
export { predict } from './predict';
export { loadTfjsModel, modelJsonPath, tfjsClassifier, rowsAreProbabilities, OUTPUT_KINDS } from './tfjs-model';
export type {
  AnyModel,
  LoadTfjsModelOptions,
  OutputKind,
  TfjsClassifier,
  TfjsClassifierOptions,
  TfjsModel,
} from './tfjs-model';
export { withTta } from './with-tta';
export type { TfjsTtaModel, TfjsWithTtaOptions } from './with-tta';
export type { PredictOptions } from './predict';
export { saveModel, loadModel, readModelJson, ModelFileError } from './io';
export type { LoadModelOptions, ModelFormat, ModelMetadata, ModelMetrics } from './io';
export { trainCached, cacheKey, datasetChecksum, weightAffectingOptions } from './cache';
export type { TrainCachedRequest, TrainCachedResult } from './cache';
