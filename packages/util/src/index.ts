export {
  TTA_ERROR_CODES,
  TtaError,
  ArgumentTypeError,
  ArgumentRangeError,
  Described,
  isTtaError,
  described,
  describe,
  invalidParameterError,
  outOfRangeError,
  isPlainObject,
  abortError,
  throwIfAborted,
  errorMessage,
} from './errors';
export type { AnyTtaError, TtaErrorCode, TtaErrorOptions } from './errors';
export { seededRandom, randomInt, shuffleInPlace } from './random';
export { temporaryPath, writeFileAtomic, temporarySibling, replaceDirectory, removeDebris, isDebrisName } from './fs';
export type { DebrisOptions } from './fs';
