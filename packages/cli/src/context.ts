// What every command shares: where output goes, progress, data, backend and model.
import { TtaError, errorMessage, isTtaError, throwIfAborted } from '@tta/util';
import { readFileSync } from 'node:fs';
import { ProgressBar, type ProgressMode } from '@tta/progress';
import { loadCifar10, subset, type Dataset, type Split } from '@tta/data';
import {
  TFJS_VERSION,
  loadModel,
  selectBackend,
  trainCached,
  type BackendName,
  type BackendSelection,
  type TrainOptions,
} from '@tta/model';
import type { GalleryInput } from '@tta/report';
import { UserError } from './errors';
import { writeResultFile } from './paths';

export const BACKENDS: readonly BackendName[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'];

export interface Output {
  /** Human-readable results: stdout, unless stdout carries JSON. */
  result(line: string): void;
  /** Progress notes: stderr, unless quiet. */
  info(line: string): void;
  progressMode: ProgressMode;
  /** Where JSON goes: '-' for stdout, a file, or nowhere. */
  json?: string;
}

export function makeOutput(flags: { quiet?: boolean; json?: string }): Output {
  const jsonToStdout = flags.json === '-';
  const quiet = Boolean(flags.quiet);
  return {
    result: (line) => (jsonToStdout ? undefined : void process.stdout.write(`${line}\n`)),
    info: (line) => (quiet || jsonToStdout ? undefined : void process.stderr.write(`${line}\n`)),
    progressMode: quiet || flags.json !== undefined ? 'quiet' : 'auto',
    json: flags.json,
  };
}

/**
 * Writes JSON to stdout or atomically to a file; `what` names it if the write fails (the
 * path was checked when the run started, see paths.ts).
 */
export function writeJson(target: string, value: unknown, what = '--json'): void {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (target === '-') {
    process.stdout.write(text);
    return;
  }
  writeResultFile(what, target, text);
}

/**
 * --backend's default: $TTA_BACKEND when set (e.g. to keep scripts on one backend on a machine
 * that has several; CI runs the CLI tests once per backend with it), else auto.
 */
export function defaultBackend(): BackendName {
  const value = process.env.TTA_BACKEND;
  if (value === undefined || value === '') return 'auto';
  if (!BACKENDS.includes(value as BackendName))
    throw new UserError(`TTA_BACKEND must be one of ${BACKENDS.join(', ')}; got '${value}'`);
  return value as BackendName;
}

export async function useBackend(name: BackendName, output: Output): Promise<BackendSelection['backend']> {
  const choice = await selectBackend(name);
  const skipped = choice.skipped.map((s) => `${s.name} (${s.reason})`).join('; ');
  output.info(`backend: ${choice.backend}${skipped ? ` — skipped: ${skipped}` : ''}`);
  return choice.backend;
}

export async function loadData(dir: string | undefined, output: Output, verify = true): Promise<Dataset> {
  const started = performance.now();
  const data = await loadCifar10({ dir, verify, progress: output.progressMode });
  output.info(
    `data: CIFAR-10 from ${data.source} (${data.train.count} train, ${data.test.count} test images, ${((performance.now() - started) / 1000).toFixed(2)} s)`,
  );
  return data;
}

export function limit(split: Split, count: number | undefined, stratified: boolean, seed: number): Split {
  if (count === undefined || count >= split.count) return split;
  return subset(split, { count, stratified, seed });
}

export interface ModelRequest {
  train: Split;
  architecture?: string;
  trainOptions: TrainOptions;
  noCache: boolean;
  backend: BackendName;
  cacheDir?: string;
}

export interface ModelHandle {
  model: Awaited<ReturnType<typeof loadModel>>['model'];
  source: 'cache' | 'trained';
  dir: string;
  metadata: unknown;
}

/** Trains the reference CNN (reusing the cache) with a progress bar; Ctrl-C aborts cleanly. */
export async function obtainModel(
  request: ModelRequest,
  output: Output,
  signal: AbortSignal,
  label: string,
): Promise<ModelHandle> {
  const epochs = request.trainOptions.epochs ?? 3;
  const perEpoch = request.train.count;
  const bar = new ProgressBar({ label, total: epochs * perEpoch, unit: 'img', mode: output.progressMode });
  const started = performance.now();
  const result = await trainCached({
    data: request.train,
    architecture: request.architecture,
    cacheDir: request.cacheDir,
    noCache: request.noCache,
    backend: request.backend,
    trainOptions: {
      ...request.trainOptions,
      signal,
      onProgress: (p) =>
        bar.update((p.epoch - 1) * perEpoch + p.done, {
          epoch: `${p.epoch}/${p.epochs}`,
          loss: p.loss,
          acc: p.accuracy,
        }),
    },
  });
  if (result.source === 'trained') bar.finish();
  const seconds = (performance.now() - started) / 1000;
  output.info(
    `model: ${result.source === 'cache' ? 'reused from the cache' : `trained in ${seconds.toFixed(1)} s`} (${result.dir})`,
  );
  return { model: result.model, metadata: result.metadata, source: result.source, dir: result.dir };
}

/**
 * A progress bar over image predictions of every view (views x images), for the onProgress
 * of evaluatePolicies and tuneThenTest; created on the first report, when the view count is known.
 */
export function viewProgress(label: string, output: Output, signal: AbortSignal) {
  let bar: ProgressBar | undefined;
  const startedAt = performance.now();
  return {
    onProgress({ done, total, views }: { done: number; total: number; views: number }): void {
      bar ??= new ProgressBar({ label, total: views * total, unit: 'img', mode: output.progressMode, startedAt });
      bar.update(views * done, { views });
      throwIfAborted(signal);
    },
    finish(): void {
      bar?.finish();
    },
  };
}

/** Ctrl-C once: abort the work at the next safe point; twice: exit now. */
export function interruptSignal(output: Output): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    output.info('\ninterrupted: stopping at the next safe point (Ctrl-C again to quit now)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

export function checkDir(name: string, dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  if (dir.trim() === '') throw new UserError(`--${name} needs a directory`);
  return dir;
}

/** Writes the self-contained HTML report (with the versions of what ran). */
export async function writeHtml(
  file: string,
  content: { eval?: unknown; tune?: unknown; gallery?: GalleryInput | null },
  config: Record<string, unknown>,
  command: string,
  argv: readonly string[],
  classNames?: readonly string[],
): Promise<void> {
  const { writeReport } = await import('@tta/report');
  const versions: Record<string, string> = { node: process.versions.node };
  for (const pkg of ['@tta/cli', '@tta/core', '@tta/native', '@tta/model']) {
    versions[pkg] = (
      JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }
    ).version;
  }
  versions['@tensorflow/tfjs-core'] = TFJS_VERSION;
  try {
    writeReport(file, {
      ...content,
      ...(classNames ? { classNames } : {}),
      meta: {
        command: `tta ${command} ${argv.join(' ')}`.trim(),
        generatedAt: new Date().toISOString(),
        versions,
        config,
      },
    } as Parameters<typeof writeReport>[1]);
  } catch (error) {
    if (isTtaError(error)) throw error;
    throw new TtaError('TTA_IO', `Could not write --html ${file}: ${errorMessage(error)}`, { cause: error });
  }
}
