// Picks the TensorFlow.js backend that runs the models. Every backend registers
// with the one @tensorflow/tfjs-core in the tree (the package manager keeps a
// single copy), so a model built here runs on whichever is selected.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's CommonJS bundle registers no gradients; tfjs-layers' bundle registers them all.
import '@tensorflow/tfjs-layers';
import fs from 'node:fs';
import path from 'node:path';
import { TtaError, errorMessage as messageOf, invalidParameterError } from '@tta/util';
import { registerWasmTrainingKernels } from './wasm-kernels';

/** The version of @tensorflow/tfjs-core that every backend registers with. */
export const TFJS_VERSION: string = tf.version_core;

export type BackendName = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'native' | 'wasm' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'];

/**
 * The order 'auto' tries: fastest first. On the CPU, native trains about 5x and predicts about 6x
 * as fast as TensorFlow's own CPU kernels through tfjs-node (pnpm bench:peers), so CPU TensorFlow
 * comes after it; a GPU comes first.
 */
export const AUTO_ORDER: readonly Exclude<BackendName, 'auto'>[] = [
  'tensorflow-gpu',
  'native',
  'tensorflow',
  'wasm',
  'cpu',
];

export interface SelectBackendOptions {
  /** Also write why each earlier backend was skipped to `log` (default: stderr). */
  explain?: boolean;
  log?: (line: string) => void;
  /** How modules are loaded; tests replace it to simulate a missing package. */
  require?: (id: string) => unknown;
  /**
   * Where @tensorflow/tfjs-node(-gpu) is installed, for the checks before loading it; tests point it at a
   * broken install.
   */
  resolvePackage?: (id: string) => string;
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

// tfjs-node's own install downloads libtensorflow 2.9.1 from a bucket that now refuses it (and
// that many machines cannot reach); the project's script builds it against TensorFlow's pip wheel.
const HOW_TO_GET: Record<Exclude<BackendName, 'auto'>, string> = {
  'tensorflow-gpu':
    'To get it on Linux x64 with an NVIDIA GPU and driver, run `bash scripts/setup-tensorflow.sh --gpu` (or `bash scripts/setup.sh --with-tensorflow=gpu`) ' +
    'in the tta repository: it builds @tensorflow/tfjs-node-gpu 4.22.0 against the CUDA wheel of TensorFlow that pip installs (tensorflow[and-cuda], CUDA libraries included).',
  tensorflow:
    'To get it, run `bash scripts/setup-tensorflow.sh` (or `bash scripts/setup.sh --with-tensorflow`) in the tta repository: ' +
    'it builds @tensorflow/tfjs-node 4.22.0 against the libtensorflow of the tensorflow-cpu wheel that pip installs.',
  native:
    'It comes with @tta/tfjs-backend-native: rebuild it with `pnpm --filter @tta/tfjs-backend-native build` (needs cmake and a C++ compiler; OpenBLAS makes it fast).',
  wasm: 'Install @tensorflow/tfjs-backend-wasm 4.22.0 (a dependency of @tta/model; reinstall with pnpm install).',
  cpu: 'Install @tensorflow/tfjs-backend-cpu 4.22.0 (a dependency of @tta/model; reinstall with pnpm install).',
};

const TFJS_NODE = new Set(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']);

/**
 * What is wrong with a @tensorflow/tfjs-node(-gpu) package folder, or undefined if it looks
 * loadable: its compiled binding must exist (pnpm installs the package without building it) and
 * every library link in deps/lib must lead somewhere. Checked before loading, because a failed
 * dlopen names only a library, and tfjs-node's own message suggests `npm rebuild`, which would
 * run the install hook that downloads (and, for -gpu, wipes deps/).
 */
export function tensorflowInstallProblem(packageDir: string): string | undefined {
  const name = path.basename(packageDir);
  const lib = path.join(packageDir, 'lib');
  const bindings = fs.existsSync(lib)
    ? fs.readdirSync(lib).filter((d) => /^napi-v\d+$/.test(d) && fs.existsSync(path.join(lib, d, 'tfjs_binding.node')))
    : [];
  if (bindings.length === 0)
    return `${name}'s binding is not built (expected lib/napi-v*/tfjs_binding.node in ${packageDir}; received none)`;
  const depsLib = path.join(packageDir, 'deps', 'lib');
  const entries = fs.existsSync(depsLib) ? fs.readdirSync(depsLib) : [];
  if (!entries.some((e) => e.startsWith('libtensorflow')))
    return `${name} has no libtensorflow (expected libraries or links in ${depsLib}; received ${entries.length === 0 ? 'none' : entries.join(', ')})`;
  for (const entry of entries) {
    const file = path.join(depsLib, entry);
    if (fs.lstatSync(file).isSymbolicLink() && !fs.existsSync(file))
      return `${file} links to ${fs.readlinkSync(file)}, which does not exist (the TensorFlow wheel it was built against was moved or removed)`;
  }
  return undefined;
}

/** Whether this machine shows an NVIDIA driver (bare metal, containers given the devices, WSL). */
const NVIDIA_DRIVER_FILES = ['/proc/driver/nvidia/version', '/dev/nvidiactl', '/dev/dxg'];
function nvidiaDriverPresent(): boolean {
  return NVIDIA_DRIVER_FILES.some((f) => fs.existsSync(f));
}

function defaultResolvePackage(id: string): string {
  return path.dirname(require.resolve(`${id}/package.json`));
}

function defaultRequire(id: string, resolvePackage: (id: string) => string): unknown {
  if (TFJS_NODE.has(id)) {
    const packageDir = resolvePackage(id);
    if (id.endsWith('-gpu') && !nvidiaDriverPresent())
      throw new Error(`no NVIDIA GPU driver here (none of ${NVIDIA_DRIVER_FILES.join(', ')} exists)`);
    const problem = tensorflowInstallProblem(packageDir);
    if (problem !== undefined) throw new Error(problem);
    // TensorFlow's C++ start-up notes (CPU features) would go to stderr on every run.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  }
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
      // The CUDA build runs on the CPU when it finds no GPU (or no CUDA libraries); that is not tensorflow-gpu.
      if (name === 'tensorflow-gpu' && (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice !== true)
        throw new Error(
          'TensorFlow found no usable GPU device (CUDA libraries or driver missing?), so it would run on the CPU',
        );
      return 'tensorflow';
    }
    case 'native': {
      load('@tta/tfjs-backend-native');
      if (tf.findBackendFactory('native') === null)
        throw new Error("@tta/tfjs-backend-native loaded but registered no backend named 'native'");
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
  const resolvePackage = options.resolvePackage ?? defaultResolvePackage;
  const load = options.require ?? ((id: string) => defaultRequire(id, resolvePackage));
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
