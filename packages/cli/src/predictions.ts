// tta predict's output: one line per image file (its path, the top-k classes with their
// probabilities, or the reason it could not be read), appended and flushed chunk by chunk.
// A run killed at any moment leaves whole lines plus at most one partial last line; the next
// run with the same file drops that partial line and carries on after the last whole one,
// so no file is lost or written twice.
import fs from 'node:fs';
import { TtaError, errorMessage } from '@tta/util';
import { UserError } from './errors';

export type PredictionFormat = 'csv' | 'jsonl';

export interface PredictionLine {
  file: string;
  /** Top classes, most probable first. */
  top?: { index: number; name: string; probability: number }[];
  error?: string;
}

/** Quotes a CSV field when it needs it (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The first field of a CSV line (quoted or not), or undefined when the line is malformed. */
export function firstCsvField(line: string): string | undefined {
  if (!line.startsWith('"')) {
    const comma = line.indexOf(',');
    return comma < 0 ? line : line.slice(0, comma);
  }
  let value = '';
  for (let i = 1; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') {
      if (line[i + 1] === '"') {
        value += '"';
        i++;
      } else return line[i + 1] === undefined || line[i + 1] === ',' ? value : undefined;
    } else value += ch;
  }
  return undefined;
}

export function csvHeader(topK: number): string {
  const columns = ['path'];
  for (let k = 1; k <= topK; k++) columns.push(`class_${k}`, `probability_${k}`);
  columns.push('error');
  return `${columns.join(',')}\n`;
}

export function formatLine(line: PredictionLine, format: PredictionFormat, topK: number): string {
  if (format === 'jsonl') {
    return `${JSON.stringify(line.error !== undefined ? { path: line.file, error: line.error } : { path: line.file, top: line.top })}\n`;
  }
  const fields = [csvField(line.file)];
  for (let k = 0; k < topK; k++) {
    const t = line.top?.[k];
    fields.push(t ? csvField(t.name) : '', t ? String(t.probability) : '');
  }
  fields.push(line.error !== undefined ? csvField(line.error) : '');
  return `${fields.join(',')}\n`;
}

/** The file a JSONL line is about, or undefined when it is not a whole record. */
function jsonlPath(line: string): string | undefined {
  try {
    const record = JSON.parse(line) as { path?: unknown };
    return typeof record.path === 'string' ? record.path : undefined;
  } catch {
    return undefined;
  }
}

export interface ResumeState {
  /** Files already written by an earlier run. */
  done: Set<string>;
  /** Bytes of whole lines kept (the file is cut there). */
  keptBytes: number;
  droppedPartialLine: boolean;
}

/**
 * Reads what an earlier run wrote to `file`: the paths of its whole lines. A last line without
 * its newline was cut off by a crash and is dropped. A file written in another format, or with
 * another number of top classes, is an error rather than something to append to.
 */
export function readExisting(file: string, format: PredictionFormat, topK: number): ResumeState {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { done: new Set(), keptBytes: 0, droppedPartialLine: false };
    throw new UserError(`--out ${file} cannot be read to resume: ${errorMessage(error)}`);
  }
  const end = text.lastIndexOf('\n') + 1;
  const whole = text.slice(0, end);
  const done = new Set<string>();
  const lines = whole.split('\n').slice(0, -1);
  if (format === 'csv' && lines.length > 0 && `${lines[0]}\n` !== csvHeader(topK)) {
    throw new UserError(
      `--out ${file} holds another run's output (its header is not '${csvHeader(topK).trim()}'); remove it or choose another file`,
    );
  }
  for (const [i, line] of lines.entries()) {
    if (format === 'csv' && i === 0) continue;
    const path = format === 'csv' ? firstCsvField(line) : jsonlPath(line);
    if (path === undefined) {
      throw new UserError(
        `--out ${file}: line ${i + 1} is not a ${format === 'csv' ? 'CSV' : 'JSON'} prediction line; remove it or choose another file`,
      );
    }
    done.add(path);
  }
  return { done, keptBytes: Buffer.byteLength(whole), droppedPartialLine: end < text.length };
}

/** Appends prediction lines to a file (flushed to disk after each batch of lines), or to stdout. */
export class PredictionWriter {
  private fd: number | undefined;

  constructor(
    readonly target: string | undefined,
    readonly format: PredictionFormat,
    readonly topK: number,
    resume: ResumeState | undefined,
  ) {
    if (target === undefined) {
      process.stdout.write(format === 'csv' ? csvHeader(topK) : '');
      return;
    }
    try {
      this.fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND);
      fs.ftruncateSync(this.fd, resume?.keptBytes ?? 0);
      if ((resume?.keptBytes ?? 0) === 0 && format === 'csv') this.write(csvHeader(topK));
    } catch (error) {
      throw new TtaError('TTA_IO', `--out ${target} cannot be written: ${errorMessage(error)}`, { cause: error });
    }
  }

  private write(text: string): void {
    if (this.fd === undefined) {
      process.stdout.write(text);
      return;
    }
    const bytes = Buffer.from(text);
    let offset = 0;
    while (offset < bytes.length) offset += fs.writeSync(this.fd, bytes, offset, bytes.length - offset, null);
  }

  /** Writes whole lines in one go and flushes them to the disk. */
  append(lines: readonly PredictionLine[]): void {
    if (lines.length === 0) return;
    try {
      this.write(lines.map((line) => formatLine(line, this.format, this.topK)).join(''));
      if (this.fd !== undefined) fs.fsyncSync(this.fd);
    } catch (error) {
      throw new TtaError('TTA_IO', `Could not write --out ${this.target}: ${errorMessage(error)}`, { cause: error });
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
