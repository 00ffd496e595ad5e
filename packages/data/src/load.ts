import fs from 'node:fs';
import path from 'node:path';
import { invalidParameterError, removeDebris } from '@tta/util';
import { extractToTemporary, moveIntoPlace } from './archive';
import { downloadFile } from './download';
import { DataError } from './errors';
import { type LookedAt, type SearchResult, datasetsCacheDir, searchDataset } from './locations';
import { hashFilesInWorker } from './hash-worker';
import { type RawSplit, checkMd5s, filesWithMd5, makeSplit, readClassNames, readSplitFiles } from './reader';
import {
  CIFAR10_CLASS_NAMES,
  CIFAR100_COARSE_CLASS_NAMES,
  CIFAR100_FINE_CLASS_NAMES,
  CIFAR100_SPEC,
  CIFAR10_SPEC,
  type CifarSpec,
  type LabelSpec,
} from './spec';
import type { Dataset, LoadOptions } from './types';

export type Cifar100LoadOptions = LoadOptions & { labelMode?: 'fine' | 'coarse' };

const OPTION_TYPES: Record<string, string> = {
  dir: 'string',
  cacheDir: 'string',
  download: 'boolean',
  verify: 'boolean',
  url: 'string',
  onProgress: 'function',
  progress: 'string',
  retries: 'number',
  retryDelayMs: 'number',
  timeoutMs: 'number',
  labelMode: 'string',
};

function checkOptions(options: unknown): Cifar100LoadOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw invalidParameterError('options', 'an object', options);
  const record = options as Record<string, unknown>;
  for (const [key, type] of Object.entries(OPTION_TYPES)) {
    const value = record[key];
    if (value !== undefined && typeof value !== type) throw invalidParameterError(`options.${key}`, `a ${type}`, value);
  }
  for (const key of ['retries', 'retryDelayMs', 'timeoutMs'] as const) {
    const value = record[key];
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 0))
      throw invalidParameterError(`options.${key}`, 'an integer >= 0', value);
  }
  if (record.progress !== undefined && !['auto', 'tty', 'plain', 'quiet'].includes(record.progress as string)) {
    throw invalidParameterError('options.progress', "'auto', 'tty', 'plain' or 'quiet'", record.progress);
  }
  if (record.labelMode !== undefined && record.labelMode !== 'fine' && record.labelMode !== 'coarse') {
    throw invalidParameterError('options.labelMode', "'fine' or 'coarse'", record.labelMode);
  }
  return record as Cifar100LoadOptions;
}

function downloadAllowed(options: LoadOptions): boolean {
  if (options.download !== undefined) return options.download;
  const offline = process.env.TTA_OFFLINE;
  return offline === undefined || offline === '' || offline === '0' || offline === 'false';
}

export function datasetUrl(spec: CifarSpec, options: LoadOptions = {}): string {
  return options.url ?? (process.env[spec.urlEnv] || spec.url);
}

function describeLooked(looked: readonly LookedAt[]): string {
  return looked.map((l) => `  - ${l.path} (${l.origin})${l.reason ? `: ${l.reason}` : ''}`).join('\n');
}

function notFoundError(
  spec: CifarSpec,
  looked: readonly LookedAt[],
  url: string,
  why: string,
  cause?: unknown,
): DataError {
  const message = [
    `${spec.title} was not found. Looked in:`,
    describeLooked(looked),
    why,
    `To use it offline, download ${spec.url}, extract it (it unpacks to ${spec.directoryName}/), and pass the folder that holds it (or the .tar.gz itself) as dir, or set TTA_DATA_DIR to it.`,
  ].join('\n');
  return new DataError('TTA_DATA_NOT_FOUND', message, { file: url, cause });
}

async function readDirectory(
  dir: string,
  spec: CifarSpec,
  options: LoadOptions,
  labelKind: LabelSpec['kind'],
  source: string,
): Promise<Dataset> {
  const verify = options.verify ?? true;
  const trainRecords = spec.train.reduce((a, f) => a + f.records, 0);
  const totalRecords = trainRecords + spec.test.reduce((a, f) => a + f.records, 0);
  const report = (done: number) => options.onProgress?.({ phase: 'read', done, total: totalRecords });
  report(0);
  // Missing files are reported by the reader with the layout; only hash what is there.
  const md5Files = verify
    ? filesWithMd5(dir, [...spec.train, ...spec.test]).filter(({ file }) => fs.existsSync(file))
    : [];
  const hashes = hashFilesInWorker(md5Files.map(({ file }) => file));
  let trainRaw: RawSplit;
  let testRaw: RawSplit;
  try {
    trainRaw = await readSplitFiles(dir, spec.train, spec, { verify, onRecords: report });
    testRaw = await readSplitFiles(dir, spec.test, spec, { verify, onRecords: (n) => report(trainRaw.count + n) });
  } catch (error) {
    hashes.cancel();
    throw error;
  }
  checkMd5s(md5Files, await hashes.digests);
  const fallback =
    spec.name === 'cifar10'
      ? CIFAR10_CLASS_NAMES
      : labelKind === 'coarse'
        ? CIFAR100_COARSE_CLASS_NAMES
        : CIFAR100_FINE_CLASS_NAMES;
  const classNames = await readClassNames(dir, spec, labelKind, fallback, verify);
  return {
    train: makeSplit(trainRaw, spec, labelKind),
    test: makeSplit(testRaw, spec, labelKind),
    classNames,
    name: spec.name,
    source,
  };
}

/** Extracts an archive into the cache, reads it from there, and only then moves it into place. */
async function loadFromArchive(
  archive: string,
  spec: CifarSpec,
  options: LoadOptions,
  labelKind: LabelSpec['kind'],
): Promise<Dataset> {
  const target = path.join(datasetsCacheDir(options.cacheDir), spec.directoryName);
  // Half-extracted folders of killed runs (a dead process, or a day old) go first.
  removeDebris(path.dirname(target));
  const temporary = await extractToTemporary(archive, target, spec, (done, total) =>
    options.onProgress?.({ phase: 'extract', done, total }),
  );
  try {
    const dataset = await readDirectory(path.join(temporary, spec.directoryName), spec, options, labelKind, target);
    await moveIntoPlace(path.join(temporary, spec.directoryName), target);
    return dataset;
  } finally {
    await fs.promises.rm(temporary, { recursive: true, force: true });
  }
}

async function loadDataset(spec: CifarSpec, rawOptions: unknown, labelKind: LabelSpec['kind']): Promise<Dataset> {
  const options = checkOptions(rawOptions);
  const search = searchDataset(spec, {
    ...(options.dir !== undefined ? { dir: options.dir } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
  });
  const found = search.found;
  if (found?.kind === 'directory') return readDirectory(found.path, spec, options, labelKind, found.path);
  if (found?.kind === 'archive') {
    // An archive from dir or TTA_DATA_DIR is unpacked into the cache once; later loads read that copy.
    const extracted = path.join(datasetsCacheDir(options.cacheDir), spec.directoryName);
    if (fs.existsSync(extracted)) return readDirectory(extracted, spec, options, labelKind, extracted);
    return loadFromArchive(found.path, spec, options, labelKind);
  }

  const url = datasetUrl(spec, options);
  if (!downloadAllowed(options)) {
    throw notFoundError(
      spec,
      search.looked,
      url,
      `Downloading was turned off (${options.download === false ? 'download: false' : 'TTA_OFFLINE is set'}).`,
    );
  }
  const archive = path.join(datasetsCacheDir(options.cacheDir), spec.archiveName);
  removeDebris(path.dirname(archive));
  try {
    await downloadFile({
      url,
      destination: archive,
      // The published MD5 belongs to the official file; a mirror or test server may serve another packing.
      ...(url === spec.url && (options.verify ?? true) ? { md5: spec.archiveMd5 } : {}),
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      label: `download ${spec.title}`,
      progress: options.progress ?? 'auto',
      onBytes: (done, total) =>
        options.onProgress?.({ phase: 'download', done, ...(total !== undefined ? { total } : {}) }),
    });
  } catch (error) {
    throw notFoundError(
      spec,
      search.looked,
      url,
      `Downloading it failed: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
  try {
    return await loadFromArchive(archive, spec, options, labelKind);
  } finally {
    // The extracted folder is what later loads read; the 160 MB archive is not needed again.
    await fs.promises.rm(archive, { force: true });
  }
}

/** CIFAR-10 as { train: 50,000, test: 10,000 } NHWC uint8 images with labels 0..9. */
export function loadCifar10(options?: LoadOptions): Promise<Dataset> {
  return loadDataset(CIFAR10_SPEC, options, 'label');
}

/**
 * CIFAR-100; `labels` holds the fine (100, default) or coarse (20) labels, and both are kept as
 * fineLabels/coarseLabels.
 */
export function loadCifar100(options?: Cifar100LoadOptions): Promise<Dataset> {
  const labelMode = options && typeof options === 'object' ? options.labelMode : undefined;
  return loadDataset(CIFAR100_SPEC, options, labelMode === 'coarse' ? 'coarse' : 'fine');
}

type FindOptions = Pick<LoadOptions, 'dir' | 'cacheDir'>;

function searchOptions(options: FindOptions = {}) {
  return {
    ...(options.dir !== undefined ? { dir: options.dir } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
  };
}

/** Where CIFAR-10 would be loaded from, and every place looked at. */
export function findCifar10(options?: FindOptions): SearchResult {
  return searchDataset(CIFAR10_SPEC, searchOptions(options));
}

export function findCifar100(options?: FindOptions): SearchResult {
  return searchDataset(CIFAR100_SPEC, searchOptions(options));
}

/** The folder holding CIFAR-10's .bin files, if one is found without downloading or extracting. */
export function findCifar10Dir(options?: FindOptions): string | undefined {
  const { found } = findCifar10(options);
  if (found?.kind === 'directory') return found.path;
  if (found?.kind === 'archive') {
    const extracted = path.join(datasetsCacheDir(options?.cacheDir), CIFAR10_SPEC.directoryName);
    if (fs.existsSync(extracted)) return extracted;
  }
  return undefined;
}

/** The message loadCifar10 would throw when nothing is found, for tools that want to show it up front. */
export function describeSearch(result: SearchResult): string {
  return describeLooked(result.looked);
}
