// Picks the TensorFlow.js backend that runs the models. Every backend registers
// with the one @tensorflow/tfjs-core in the tree (the package manager keeps a
// single copy), so a model built here runs on whichever is selected.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's CommonJS bundle registers no gradients; tfjs-layers' bundle registers them all.
import '@tensorflow/tfjs-layers';
import path from 'node:path';
import { TtaError, errorMessage as messageOf, invalidParameterError } from '@tta/util';
import { registerWasmTrainingKernels } from './wasm-kernels';

/** The version of @tensorflow/tfjs-core that every backend registers with. */
export const TFJS_VERSION: string = tf.version_core;

export type BackendName = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'native' | 'wasm' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'];

/** The order 'auto' tries: fastest first. */
export const AUTO_ORDER: readonly Exclude<BackendName, 'auto'>[] = [
  'tensorflow-gpu',
  'tensorflow',
  'native',
  'wasm',
  'cpu',
];

export interface SelectBackendOptions {
  /** Also write why each earlier backend was skipped to `log` (default: stderr). */
  explain?: boolean;
  log?: (line: string) => void;
  /** How modules are loaded; tests replace it to simulate a missing package. */
  require?: (id: string) => unknown;
}

export interface BackendSelection {
  /** The backend that now runs, as a BackendName ('tensorflow-gpu' runs as tfjs's 'tensorflow'). */
  backend: Exclude<BackendName, 'auto'>;
  /** The tfjs engine's own name for it (tf.getBackend()). */
  engineBackend: string;
  skipped: { name: string; reason: string }[];
}

/** Why a backend could not be used and how to get it; thrown when it was asked for by name. */
export class BackendUnavailableError extends TtaError {
  constructor(
    readonly backend: string,
    readonly reason: string,
    readonly howToGet: string,
  ) {
    super('TTA_BACKEND_UNAVAILABLE', `Backend '${backend}' is not available: ${reason}. ${howToGet}`);
    this.name = 'BackendUnavailableError';
  }
}

const HOW_TO_GET: Record<Exclude<BackendName, 'auto'>, string> = {
  'tensorflow-gpu':
    'To use it, install @tensorflow/tfjs-node-gpu 4.22.0 (pnpm add @tensorflow/tfjs-node-gpu@4.22.0) on Linux x64 with an NVIDIA GPU, ' +
    'CUDA 11.2 and cuDNN 8.1 (it downloads libtensorflow 2.9.1 with GPU support from storage.googleapis.com during install, so install needs that host reachable).',
  tensorflow:
    'To use it, install @tensorflow/tfjs-node 4.22.0 (pnpm add @tensorflow/tfjs-node@4.22.0); its install downloads libtensorflow 2.9.1 from storage.googleapis.com.',
  native:
    'It comes with @tta/native (its tfjs entry point, @tta/native/tfjs): rebuild it with `pnpm --filter @tta/native build` (needs cmake and a C++ compiler; OpenBLAS makes it fast).',
  wasm: 'Install @tensorflow/tfjs-backend-wasm 4.22.0 (a dependency of @tta/model; reinstall with pnpm install).',
  cpu: 'Install @tensorflow/tfjs-backend-cpu 4.22.0 (a dependency of @tta/model; reinstall with pnpm install).',
};

function defaultRequire(id: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(id);
}

function errorMessage(error: unknown): string {
  const message = messageOf(error);
  // Native load errors repeat the whole path and stack; the first line says what happened.
  return message.split('\n')[0]!.trim();
}

/** The folder holding the wasm backend's .wasm files, so they load from node_modules with no network. */
export function wasmBinariesDir(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

let wasmPrepared = false;
let selected: Exclude<BackendName, 'auto'> | undefined;

async function activate(name: Exclude<BackendName, 'auto'>, load: (id: string) => unknown): Promise<string> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      load(name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend failed to initialise');
      return 'tensorflow';
    }
    case 'native': {
      load('@tta/native/tfjs');
      if (tf.findBackendFactory('native') === null)
        throw new Error("@tta/native/tfjs loaded but registered no backend named 'native'");
      if (!(await tf.setBackend('native'))) throw new Error('the native backend failed to initialise');
      return 'native';
    }
    case 'wasm': {
      const wasm = load('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
      if (!wasmPrepared) {
        wasm.setWasmPaths(wasmBinariesDir());
        registerWasmTrainingKernels();
        wasmPrepared = true;
      }
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
      return 'wasm';
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
      return 'cpu';
    }
  }
}

/**
 * Makes `name` the backend that runs models. 'auto' (the default) takes the first that works of
 * tensorflow-gpu, tensorflow, native, wasm, cpu and reports why each earlier one was skipped.
 * A backend asked for by name that cannot run throws a BackendUnavailableError saying how to get it.
 */
export async function selectBackend(
  name: BackendName = 'auto',
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  if (!BACKEND_NAMES.includes(name)) throw invalidParameterError('backend', `one of ${BACKEND_NAMES.join(', ')}`, name);
  const load = options.require ?? defaultRequire;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const skipped: { name: string; reason: string }[] = [];
  const candidates = name === 'auto' ? AUTO_ORDER : [name];
  for (const candidate of candidates) {
    try {
      const engineBackend = await activate(candidate, load);
      if (options.explain) {
        for (const s of skipped) log(`backend ${s.name} skipped: ${s.reason}`);
        log(`backend ${candidate} selected`);
      }
      selected = candidate;
      return { backend: candidate, engineBackend, skipped };
    } catch (error) {
      const reason = errorMessage(error);
      if (name !== 'auto') throw new BackendUnavailableError(candidate, reason, HOW_TO_GET[candidate]);
      skipped.push({ name: candidate, reason });
    }
  }
  // Unreachable in practice: cpu ships with this package.
  throw new BackendUnavailableError('auto', skipped.map((s) => `${s.name}: ${s.reason}`).join('; '), HOW_TO_GET.cpu);
}

/**
 * The backend running now, as a BackendName when selectBackend chose it ('tensorflow-gpu' rather than tfjs's
 * 'tensorflow').
 */
export function currentBackend(): string {
  const engine = tf.getBackend();
  if (selected !== undefined && (selected === engine || (selected === 'tensorflow-gpu' && engine === 'tensorflow')))
    return selected;
  return engine;
}
