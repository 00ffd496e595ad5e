// Data errors a user can act on: the message names the file and what is wrong, the code
// (one of @tta/util's TTA_DATA_* codes) says which kind of problem it is.
import { TtaError, type TtaErrorCode } from '@tta/util';

export type DataErrorCode = Extract<TtaErrorCode, `TTA_DATA_${string}`>;

export class DataError extends TtaError {
  declare readonly code: DataErrorCode;
  /** The file or URL the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(code: DataErrorCode, message: string, options?: { file?: string; cause?: unknown }) {
    super(code, message, { cause: options?.cause });
    this.name = 'DataError';
    this.file = options?.file;
  }
}

export function isDataError(error: unknown, code?: DataErrorCode): error is DataError {
  return error instanceof DataError && (code === undefined || error.code === code);
}
