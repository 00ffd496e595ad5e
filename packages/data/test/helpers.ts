import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { DataError } from '../src/errors';
import { seededRandom } from '@tta/util';

export const IMAGE = 3072;

/** The repository root: the nearest folder up from here with pnpm-workspace.yaml. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No pnpm-workspace.yaml above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** The official CIFAR-10 files kept beside the repository, when they are there. */
export function realCifar10Dir(): string | undefined {
  const dir = path.join(repoRoot(), '..', 'shared', 'data', 'cifar-10-batches-bin');
  return fs.existsSync(path.join(dir, 'test_batch.bin')) ? dir : undefined;
}

export function tempDir(prefix = 'tta-data-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Random records: `labels(r)` gives each record's label bytes, then 3072 random pixel bytes (planar R, G, B). */
export function makeRecords(count: number, labels: (r: number) => number[], seed = 1): Buffer {
  const random = seededRandom(seed);
  const labelBytes = labels(0).length;
  const stride = labelBytes + IMAGE;
  const buffer = Buffer.alloc(count * stride);
  for (let r = 0; r < count; r++) {
    labels(r).forEach((value, i) => (buffer[r * stride + i] = value));
    for (let i = 0; i < IMAGE; i++) buffer[r * stride + labelBytes + i] = Math.floor(random() * 256);
  }
  return buffer;
}

/** The NHWC images of a records buffer, converted the obvious way. */
export function naiveNhwc(records: Buffer, labelBytes: number): Uint8Array {
  const stride = labelBytes + IMAGE;
  const count = records.length / stride;
  const out = new Uint8Array(count * IMAGE);
  for (let r = 0; r < count; r++) {
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++)
        out[r * IMAGE + p * 3 + c] = records[r * stride + labelBytes + c * 1024 + p] as number;
    }
  }
  return out;
}

export const CIFAR10_FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
  'test_batch.bin',
];
export const CIFAR10_META = 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n';

export interface SyntheticCifar10 {
  dir: string;
  /** Records per file name. */
  files: Record<string, Buffer>;
}

/** A small CIFAR-10 in the official layout: `perFile` records per batch, labels r % 10 (shifted per file). */
export function writeCifar10(parent: string, perFile = 12): SyntheticCifar10 {
  const dir = path.join(parent, 'cifar-10-batches-bin');
  fs.mkdirSync(dir, { recursive: true });
  const files: Record<string, Buffer> = {};
  CIFAR10_FILES.forEach((name, f) => {
    const records = makeRecords(perFile, (r) => [(r + f) % 10], 100 + f);
    fs.writeFileSync(path.join(dir, name), records);
    files[name] = records;
  });
  fs.writeFileSync(path.join(dir, 'batches.meta.txt'), CIFAR10_META);
  return { dir, files };
}

/** Sets environment variables for a test and gives a function that puts them back. */
export function withEnv(values: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** The official archive's shape: cifar-10-batches-bin/ and its files, gzipped. */
export async function makeArchive(parent: string, perFile = 6) {
  const source = tempDir('tta-data-src-');
  const data = writeCifar10(source, perFile);
  fs.writeFileSync(path.join(source, 'readme.html'), 'not part of the dataset');
  fs.mkdirSync(parent, { recursive: true });
  const file = path.join(parent, 'cifar-10-binary.tar.gz');
  await tar.c({ gzip: true, file, cwd: source }, ['cifar-10-batches-bin', 'readme.html']);
  fs.rmSync(source, { recursive: true, force: true });
  return { file, files: data.files };
}

/** The DataError a promise rejects with; fails the test when it resolves. */
export async function failure(promise: Promise<unknown>): Promise<DataError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    return error;
  }
  throw new Error(`expected a DataError but the promise resolved with ${String(result)}`);
}
