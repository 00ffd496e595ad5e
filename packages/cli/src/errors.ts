import { BackendUnavailableError, ModelFileError } from '@tta/model';

/** An error the user can fix (bad flag, missing data, unfit model): shown without a stack trace. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}

/** Errors from the libraries that are about the user's input, not bugs. */
export function isUserFacing(error: unknown): boolean {
  if (error instanceof UserError) return true;
  if (!(error instanceof Error)) return false;
  // A model file that is missing, corrupt or does not fit the data; a backend asked for by name that is not installed.
  if (error instanceof ModelFileError || error instanceof BackendUnavailableError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('TTA_')) return true;
  // Argument validation across the packages follows one style: "Expected X for Y but received Z".
  return (error instanceof TypeError || error instanceof RangeError || error.name === 'Error') && /^Expected .* for .* but received/.test(error.message);
}
