import * as path from 'node:path';

/** The addon's entry points (src/addon.cc, a file a kernel in src/kernels); lib/kernels checks shapes first. */
export interface TfjsAddon {
  hardwareThreads(): number;
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    threads: number,
  ): void;
  retainFreedMemory(): boolean;
  backendInfo(): {
    gemm: 'openblas' | 'portable';
    threads: number;
    blasThreads: number;
    blasConfig: string;
    onednn: string;
    onednnEnabled: boolean;
    onednnConvolutions: number;
    onednnMatMuls: number;
    winograd: 'avx512f' | 'avx2' | '';
    winogradEnabled: boolean;
    winogradConvolutions: number;
  };
  setOnednn(enabled: boolean): boolean;
  setWinograd(enabled: boolean): boolean;
  setWinogradIsa(isa: 'avx512f' | 'avx2' | ''): 'avx512f' | 'avx2' | '';
  conv2d(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    activation: number,
    dims: Int32Array,
    out: Float32Array,
    threads: number,
  ): void;
  conv2dBackpropInput(
    dy: Float32Array,
    filter: Float32Array,
    dims: Int32Array,
    dx: Float32Array,
    threads: number,
  ): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dims: Int32Array, dw: Float32Array, threads: number): void;
  convBlock(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    activation: number,
    convDims: Int32Array,
    mean: Float32Array | null,
    variance: Float32Array | null,
    offset: Float32Array | null,
    scale: Float32Array | null,
    epsilon: number,
    poolDims: Int32Array | null,
    out: Float32Array,
    threads: number,
  ): boolean;
  pool2d(x: Float32Array, kind: number, dims: Int32Array, out: Float32Array, threads: number): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dims: Int32Array, dx: Float32Array, threads: number): void;
  avgPoolGrad(dy: Float32Array, dims: Int32Array, dx: Float32Array, threads: number): void;
  matMul(
    a: Float32Array,
    b: Float32Array,
    bias: Float32Array | null,
    activation: number,
    dims: Int32Array,
    out: Float32Array,
    threads: number,
  ): void;
  adamUpdate(
    value: Float32Array,
    m: Float32Array,
    v: Float32Array,
    gradient: Float32Array,
    learningRate: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    oneMinusAccBeta1: number,
    oneMinusAccBeta2: number,
    outValue: Float32Array,
    outM: Float32Array,
    outV: Float32Array,
    threads: number,
  ): void;
  batchNorm(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    epsilon: number,
    channels: number,
    out: Float32Array,
    threads: number,
  ): void;
  batchNormGrad(
    x: Float32Array,
    dy: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array | null,
    epsilon: number,
    channels: number,
    dx: Float32Array,
    sums: Float32Array,
    threads: number,
  ): void;
  batchNormTraining(
    x: Float32Array,
    scale: Float32Array | null,
    offset: Float32Array | null,
    epsilon: number,
    channels: number,
    out: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    threads: number,
  ): void;
  batchNormTrainingGrad(
    x: Float32Array,
    dy: Float32Array,
    scale: Float32Array | null,
    mean: Float32Array,
    variance: Float32Array,
    dMean: Float32Array | null,
    dVariance: Float32Array | null,
    epsilon: number,
    channels: number,
    dx: Float32Array,
    dScale: Float32Array,
    dOffset: Float32Array,
    threads: number,
  ): void;
  reluBiasGrad(
    dy: Float32Array,
    y: Float32Array,
    channels: number,
    dyOut: Float32Array,
    dBias: Float32Array,
    threads: number,
  ): void;
  binary(
    op: number,
    a: Float32Array,
    aStrides: Int32Array,
    b: Float32Array,
    bStrides: Int32Array,
    outShape: Int32Array,
    out: Float32Array,
    threads: number,
  ): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number, beta: number, threads: number): void;
  tile(x: Float32Array, shape: Int32Array, reps: Int32Array, out: Float32Array): void;
  reduce(op: number, x: Float32Array, shape: Int32Array, reduced: Int32Array, out: Float32Array, threads: number): void;
  softmax(logits: Float32Array, rows: number, cols: number, out: Float32Array, threads: number): void;
}

/** Where the addon is loaded from: TTA_TFJS_NATIVE_BINDING (e.g. a sanitizer build) or the cmake-js output. */
export const bindingPath =
  process.env.TTA_TFJS_NATIVE_BINDING ?? path.join(__dirname, '..', 'build', 'Release', 'tta_tfjs_backend_native.node');

function load(): TfjsAddon {
  // oneDNN runs on OpenMP, whose idle threads spin for a while by default and would take the
  // cores from our own pool between convolutions. libgomp reads this when it loads (with the
  // addon), so it is set first; a user's own setting wins.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(bindingPath) as TfjsAddon;
  } catch (error) {
    throw new Error(
      `@tta/tfjs-backend-native: cannot load the addon from ${bindingPath} (${(error as Error).message}). ` +
        'Build it with `pnpm install` or `pnpm --filter @tta/tfjs-backend-native build` (needs cmake and a C++17 compiler).',
    );
  }
}

export const addon: TfjsAddon = load();
export const defaultThreads: number = addon.hardwareThreads();
