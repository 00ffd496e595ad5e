// One error vocabulary for every tta package. Errors a caller can act on carry a stable
// `code` (like tRPC's TRPCError or Node's ERR_* codes), so the CLI and users tell them
// apart by code or class, never by matching message text. Bad arguments stay TypeError
// and RangeError, as in Node and sharp, but carry a code too.

/** Every code a tta error can carry. */
export const TTA_ERROR_CODES = [
  /** An argument of the wrong type or shape (a TypeError). */
  'TTA_INVALID_ARGUMENT',
  /** An argument of the right type but outside its range (a RangeError). */
  'TTA_OUT_OF_RANGE',
  /** A command-line flag or combination of flags the CLI cannot use. */
  'TTA_USAGE',
  /** Data was not found where we looked and could not be downloaded. */
  'TTA_DATA_NOT_FOUND',
  /** A dataset folder was found but one of its files is missing. */
  'TTA_DATA_MISSING_FILE',
  /** A data file is there but its contents are wrong (size, labels, MD5, count, an undecodable image). */
  'TTA_DATA_INVALID',
  /** A .tar.gz could not be read to the end. */
  'TTA_DATA_CORRUPT_ARCHIVE',
  /** A download failed after its retries. */
  'TTA_DATA_DOWNLOAD_FAILED',
  /** A model file that is missing, corrupt, or does not fit the data. */
  'TTA_MODEL_FILE',
  /** A TensorFlow.js backend asked for by name that cannot run here. */
  'TTA_BACKEND_UNAVAILABLE',
  /** A file given by the user (a policy, a label list) whose contents cannot be used. */
  'TTA_INVALID_FILE',
  /** A file or folder given by the user that cannot be read or written. */
  'TTA_IO',
  /** Work stopped because it was asked to (Ctrl-C, an AbortSignal). */
  'TTA_ABORTED',
] as const;

export type TtaErrorCode = (typeof TTA_ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(TTA_ERROR_CODES);

export interface TtaErrorOptions {
  cause?: unknown;
}

/** The base of every tta error that is not a bad argument. */
export class TtaError extends Error {
  readonly code: TtaErrorCode;

  constructor(code: TtaErrorCode, message: string, options: TtaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TtaError';
    this.code = code;
  }
}

/** A bad argument type: a TypeError with code TTA_INVALID_ARGUMENT. */
export class ArgumentTypeError extends TypeError {
  readonly code = 'TTA_INVALID_ARGUMENT' as const;
}

/** A bad argument value: a RangeError with code TTA_OUT_OF_RANGE. */
export class ArgumentRangeError extends RangeError {
  readonly code = 'TTA_OUT_OF_RANGE' as const;
}

export type AnyTtaError = TtaError | ArgumentTypeError | ArgumentRangeError;

/** Whether `error` is one of tta's own errors (optionally with this code). */
export function isTtaError(error: unknown, code?: TtaErrorCode): error is AnyTtaError {
  if (!(error instanceof Error)) return false;
  const actual = (error as { code?: unknown }).code;
  return typeof actual === 'string' && CODES.has(actual) && (code === undefined || actual === code);
}

/** A ready-made description of what was received, printed as it is (e.g. '16x16x3 images'). */
export class Described {
  constructor(readonly text: string) {}
}

/** Marks `text` as a description for the error helpers rather than a value to describe. */
export function described(text: string): Described {
  return new Described(text);
}

/** How a received value is shown in messages: its value and type, or its kind and size. */
export function describe(value: unknown): string {
  if (value instanceof Described) return value.text;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}' of type string`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} of type ${typeof value}`;
  }
  if (ArrayBuffer.isView(value)) {
    const length = 'length' in value ? (value as unknown as { length: number }).length : value.byteLength;
    return `${value.constructor.name} of length ${length}`;
  }
  if (Array.isArray(value)) return `Array of length ${value.length}`;
  // A TensorFlow.js tensor (recognised by shape, without depending on tfjs).
  const tensor = value as { shape?: unknown; dtype?: unknown };
  if (typeof value === 'object' && Array.isArray(tensor.shape) && typeof tensor.dtype === 'string') {
    return `a ${tensor.dtype} tensor of shape [${tensor.shape.join(',')}]`;
  }
  if (typeof value === 'function') return 'a function';
  return `${(value as object).constructor?.name ?? 'Object'} object`;
}

function message(name: string, expected: string, actual: unknown): string {
  return `Expected ${expected} for ${name} but received ${describe(actual)}`;
}

/** sharp's style: "Expected <expected> for <name> but received <value or description>". */
export function invalidParameterError(name: string, expected: string, actual: unknown): ArgumentTypeError {
  return new ArgumentTypeError(message(name, expected, actual));
}

/** The RangeError twin of invalidParameterError, for a value of the right type out of range. */
export function outOfRangeError(name: string, expected: string, actual: unknown): ArgumentRangeError {
  return new ArgumentRangeError(message(name, expected, actual));
}

/** A plain object (not null, an array or a typed array): what options arguments must be. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** The error for stopping at a user's request; `name` stays 'AbortError' as DOM and Node use it. */
export function abortError(message = 'interrupted'): TtaError {
  const error = new TtaError('TTA_ABORTED', message);
  error.name = 'AbortError';
  return error;
}

/** Throws abortError() when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError();
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
