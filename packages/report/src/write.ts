import { invalidParameterError, writeFileAtomic } from '@tta/util';
import { renderReport } from './render';
import type { ReportInput } from './types';

/**
 * Renders the report and writes it atomically: to a temporary file in the same
 * directory, then renamed over `file`, so a reader never sees half a report and
 * a failed render or write leaves any previous report in place.
 */
export function writeReport(file: string, input: ReportInput): void {
  if (typeof file !== 'string' || file === '') throw invalidParameterError('file', 'a file path', file);
  writeFileAtomic(file, renderReport(input));
}
