export type { Dataset, LoadOptions, LoadProgress, Split } from './types';
export type { Cifar100LoadOptions } from './load';
export {
  loadCifar10,
  loadCifar100,
  findCifar10,
  findCifar100,
  findCifar10Dir,
  describeSearch,
  datasetUrl,
} from './load';
export { defaultCacheDir, datasetsCacheDir, type DataLocation, type LookedAt, type SearchResult } from './locations';
export { DataError, isDataError, type DataErrorCode } from './errors';
export { downloadFile, type DownloadOptions } from './download';
export {
  CIFAR10_CLASS_NAMES,
  CIFAR10_URL,
  CIFAR100_COARSE_CLASS_NAMES,
  CIFAR100_FINE_CLASS_NAMES,
  CIFAR100_URL,
  CIFAR10_SPEC,
  CIFAR100_SPEC,
  type CifarSpec,
} from './spec';
export {
  toFloat32,
  oneHot,
  trainValidationSplit,
  subset,
  gather,
  classCounts,
  stratifiedQuotas,
  stratifiedSplit,
  splitChecksum,
} from './transforms';
export { IMAGE_BYTES } from './interleave';
export {
  IMAGE_EXTENSIONS,
  RESIZE_MODES,
  decodeImageFile,
  scanImageFolder,
  listImageFiles,
  readImages,
  imageFileSource,
  loadImageFolder,
  type DecodeOptions,
  type ImageChunk,
  type ImageFileSource,
  type ImageFolderData,
  type ImageFolderIndex,
  type ReadImagesOptions,
  type ResizeMode,
  type ScanOptions,
} from './image-folder';
