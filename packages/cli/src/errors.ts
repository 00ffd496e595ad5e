import { TtaError, isTtaError } from '@tta/util';

/** A bad flag or combination of flags: shown as one line, exit code 2 by default. */
export class UserError extends TtaError {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super('TTA_USAGE', message);
    this.name = 'UserError';
  }
}

/**
 * Whether an error is about the user's input rather than a bug: every tta error (by its code:
 * bad arguments, data, model files, backends, paths), shown without a stack trace.
 */
export function isUserFacing(error: unknown): boolean {
  return isTtaError(error);
}
