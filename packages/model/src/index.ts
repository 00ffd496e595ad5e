export {
  TFJS_VERSION,
  selectBackend,
  currentBackend,
  wasmBinariesDir,
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
export { layersClassifier } from './classifier';
export type { LayersModelLike } from './classifier';
export type { PredictOptions } from './predict';
export { saveModel, loadModel, ModelFileError } from './io';
export type { LoadModelOptions, ModelMetadata, ModelMetrics } from './io';
export { trainCached, cacheKey, datasetChecksum, weightAffectingOptions } from './cache';
export type { TrainCachedRequest, TrainCachedResult } from './cache';
