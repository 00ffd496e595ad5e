// Errors a user can act on carry a `code` so the CLI can recognise them and show
// the message as it is; the message itself names the file and what is wrong.

export type DataErrorCode =
  /** Nothing was found where we looked and nothing could be downloaded. */
  | 'TTA_DATA_NOT_FOUND'
  /** A dataset folder was found but one of its files is missing. */
  | 'TTA_DATA_MISSING_FILE'
  /** A file is there but its contents are wrong (size, labels, MD5, record count). */
  | 'TTA_DATA_INVALID'
  /** A .tar.gz could not be read to the end. */
  | 'TTA_DATA_CORRUPT_ARCHIVE'
  /** A download failed after its retries. */
  | 'TTA_DATA_DOWNLOAD_FAILED';

export class DataError extends Error {
  readonly code: DataErrorCode;
  /** The file or URL the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(code: DataErrorCode, message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DataError';
    this.code = code;
    this.file = options?.file;
  }
}

export function isDataError(error: unknown, code?: DataErrorCode): error is DataError {
  return error instanceof DataError && (code === undefined || error.code === code);
}
