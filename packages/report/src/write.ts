import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderReport } from './render';
import type { ReportInput } from './types';

/**
 * Renders the report and writes it atomically: to a temporary file in the same
 * directory, then renamed over `file`, so a reader never sees half a report and
 * a failed render or write leaves any previous report in place.
 */
export function writeReport(file: string, input: ReportInput): void {
  if (typeof file !== 'string' || file === '') {
    throw new TypeError(`Expected a file path for file but received ${file === '' ? "'' of type string" : typeof file}`);
  }
  const html = renderReport(input);
  const target = path.resolve(file);
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, html);
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
