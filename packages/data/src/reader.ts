// Reads the official binary files into NHWC splits, checking everything that can
// be wrong with them, and naming the file when something is.
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from './errors';
import { IMAGE_BYTES, createInterleaveMemory } from './interleave';
import type { BinaryFileSpec, CifarSpec, LabelSpec } from './spec';
import type { Split } from './types';

export interface RawSplit {
  images: Uint8Array;
  count: number;
  /** One array per label kind of the spec, in its order. */
  labels: Uint8Array[];
}

export interface ReadOptions {
  /** Check record counts against the official files (MD5s are checked by checkMd5s). */
  verify: boolean;
  /** Called after each file with the records read so far. */
  onRecords?: (records: number) => void;
}

async function statFile(file: string, spec: CifarSpec): Promise<fs.Stats> {
  try {
    const stats = await fs.promises.stat(file);
    if (!stats.isFile())
      throw new DataError(
        'TTA_DATA_MISSING_FILE',
        `${file} is not a file; ${spec.title} needs it (official layout: ${describeLayout(spec)})`,
        { file },
      );
    return stats;
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(
      'TTA_DATA_MISSING_FILE',
      `Missing file ${file}: ${spec.title} needs ${describeLayout(spec)} in ${path.dirname(file)}`,
      { file, cause: error },
    );
  }
}

export function describeLayout(spec: CifarSpec): string {
  return [...spec.train, ...spec.test].map((f) => f.name).join(', ');
}

async function readInto(file: string, target: Uint8Array): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    let filled = 0;
    while (filled < target.length) {
      const { bytesRead } = await handle.read(target, filled, target.length - filled, filled);
      if (bytesRead === 0) {
        throw new DataError(
          'TTA_DATA_INVALID',
          `${file} ended after ${filled} of ${target.length} bytes while being read (was it changed meanwhile?)`,
          { file },
        );
      }
      filled += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

function checkLabels(
  file: string,
  spec: CifarSpec,
  bytes: Uint8Array,
  offset: number,
  count: number,
  label: LabelSpec,
  byteIndex: number,
  out: Uint8Array,
  outOffset: number,
): void {
  const stride = spec.recordBytes;
  let position = offset + byteIndex;
  for (let r = 0; r < count; r++, position += stride) {
    const value = bytes[position] as number;
    if (value >= label.classes) {
      const what = label.kind === 'label' ? 'label' : `${label.kind} label`;
      throw new DataError(
        'TTA_DATA_INVALID',
        `${file}: ${what} ${value} of record ${r} (byte ${r * stride + byteIndex}) is out of range: ${spec.title} ${what}s are 0..${label.classes - 1}`,
        { file },
      );
    }
    out[outOffset + r] = value;
  }
}

/** Reads the files of one split, in order, into one NHWC buffer. */
export async function readSplitFiles(
  dir: string,
  files: readonly BinaryFileSpec[],
  spec: CifarSpec,
  options: ReadOptions,
): Promise<RawSplit> {
  const paths = files.map((f) => path.join(dir, f.name));
  const stats = await Promise.all(paths.map((file) => statFile(file, spec)));
  const counts = stats.map((s, i) => {
    const file = paths[i] as string;
    const size = s.size;
    if (size === 0)
      throw new DataError('TTA_DATA_INVALID', `${file} is empty; it should hold records of ${spec.recordBytes} bytes`, {
        file,
      });
    const whole = Math.floor(size / spec.recordBytes);
    const extra = size - whole * spec.recordBytes;
    if (extra !== 0) {
      throw new DataError(
        'TTA_DATA_INVALID',
        `${file} has a truncated record: its ${size} bytes are ${whole} whole records of ${spec.recordBytes} bytes and ${extra} bytes over`,
        { file },
      );
    }
    const expected = (files[i] as BinaryFileSpec).records;
    if (options.verify && whole !== expected) {
      throw new DataError(
        'TTA_DATA_INVALID',
        `${file} holds ${whole} records but the official file holds ${expected} (pass verify: false for custom data)`,
        { file },
      );
    }
    return whole;
  });

  const total = counts.reduce((a, b) => a + b, 0);
  // Each file is read to where its first output image goes and reaches past its
  // output by count * label bytes; the memory must hold the furthest such end.
  let start = 0;
  let furthest = 0;
  for (let i = 0; i < files.length; i++) {
    furthest = Math.max(furthest, start * IMAGE_BYTES + (stats[i] as fs.Stats).size);
    start += counts[i] as number;
  }
  const memory = createInterleaveMemory(total, furthest - total * IMAGE_BYTES);
  const labels = spec.labels.map(() => new Uint8Array(total));

  start = 0;
  for (let i = 0; i < files.length; i++) {
    const file = paths[i] as string;
    const count = counts[i] as number;
    const size = (stats[i] as fs.Stats).size;
    const offset = start * IMAGE_BYTES;
    const bytes = memory.bytes;
    const raw = bytes.subarray(offset, offset + size);
    await readInto(file, raw);
    spec.labels.forEach((label, byteIndex) =>
      checkLabels(file, spec, bytes, offset, count, label, byteIndex, labels[byteIndex] as Uint8Array, start),
    );
    memory.interleave(offset + spec.labels.length, offset, count, spec.recordBytes);
    start += count;
    options.onRecords?.(start);
  }
  return { images: new Uint8Array(memory.memory.buffer, 0, total * IMAGE_BYTES), count: total, labels };
}

export function makeSplit(raw: RawSplit, spec: CifarSpec, labelKind: LabelSpec['kind']): Split {
  const byKind = (kind: LabelSpec['kind']) => {
    const index = spec.labels.findIndex((l) => l.kind === kind);
    return index < 0 ? undefined : raw.labels[index];
  };
  const labels = byKind(labelKind);
  if (!labels) throw new Error(`${spec.title} has no ${labelKind} labels`);
  const split: Split = { images: raw.images, labels, count: raw.count, height: 32, width: 32, channels: 3 };
  const coarse = byKind('coarse');
  const fine = byKind('fine');
  if (coarse) split.coarseLabels = coarse;
  if (fine) split.fineLabels = fine;
  return split;
}

/** Class names from the dataset's names file when it is there, else the published list. */
export async function readClassNames(
  dir: string,
  spec: CifarSpec,
  kind: LabelSpec['kind'],
  fallback: readonly string[],
  verify: boolean,
): Promise<string[]> {
  const fileName = spec.classNameFiles[kind];
  if (fileName === undefined) return [...fallback];
  const file = path.join(dir, fileName);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    return [...fallback];
  }
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const classes = spec.labels.find((l) => l.kind === kind)?.classes ?? fallback.length;
  if (names.length !== classes) {
    throw new DataError(
      'TTA_DATA_INVALID',
      `${file} lists ${names.length} class names but ${spec.title} has ${classes} classes`,
      { file },
    );
  }
  if (verify && names.some((n, i) => n !== fallback[i])) {
    throw new DataError(
      'TTA_DATA_INVALID',
      `${file} does not list the official ${spec.title} class names (expected ${fallback.join(', ')}; pass verify: false for custom data)`,
      { file },
    );
  }
  return names;
}

/** The official files of a split list that have a published MD5, with it. */
export function filesWithMd5(dir: string, files: readonly BinaryFileSpec[]): { file: string; md5: string }[] {
  return files.filter((f) => f.md5 !== undefined).map((f) => ({ file: path.join(dir, f.name), md5: f.md5 as string }));
}

export function checkMd5s(expected: readonly { file: string; md5: string }[], actual: readonly string[]): void {
  expected.forEach(({ file, md5 }, i) => {
    if (actual[i] !== md5) {
      throw new DataError(
        'TTA_DATA_INVALID',
        `${file} has the wrong MD5: expected ${md5}, actual ${actual[i]} (the file is damaged or not the official one; pass verify: false for custom data)`,
        { file },
      );
    }
  });
}
