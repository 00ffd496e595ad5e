import * as path from 'node:path';

/** The addon's raw entry points; every argument has been validated by lib/validate.ts. */
export interface NativeBinding {
  augment(
    images: Float32Array | Uint8Array,
    n: number,
    h: number,
    w: number,
    c: number,
    outHeight: number,
    outWidth: number,
    views: Float64Array,
    fill: number,
    cval: number,
    scale: Float32Array,
    offset: Float32Array,
    reverseChannels: boolean,
    out: Float32Array,
    threads: number,
  ): void;
  augmentAsync(
    images: Float32Array | Uint8Array,
    n: number,
    h: number,
    w: number,
    c: number,
    outHeight: number,
    outWidth: number,
    views: Float64Array,
    fill: number,
    cval: number,
    scale: Float32Array,
    offset: Float32Array,
    reverseChannels: boolean,
    out: Float32Array,
    threads: number,
  ): Promise<void>;
  softVote(
    predictions: Float32Array,
    views: number,
    n: number,
    classes: number,
    merge: number,
    weights: Float64Array,
    scores: Float32Array,
    labels: Int32Array,
    threads: number,
  ): number;
  softVoteAsync(
    predictions: Float32Array,
    views: number,
    n: number,
    classes: number,
    merge: number,
    weights: Float64Array,
    scores: Float32Array,
    labels: Int32Array,
    threads: number,
  ): Promise<number>;
  hardwareThreads(): number;
  /** Failure paths for the tests only (src/testing.cc). */
  testing: {
    parallelForThrows(count: number, threads: number, throwAt: number, kind: 0 | 1 | 2): void;
    parallelForThrowsAsync(count: number, threads: number, throwAt: number, kind: 0 | 1 | 2): Promise<void>;
  };
}

/** Where the addon is loaded from: TTA_NATIVE_BINDING (e.g. a sanitizer build) or the cmake-js output. */
export const bindingPath =
  process.env.TTA_NATIVE_BINDING ?? path.join(__dirname, '..', 'build', 'Release', 'tta_native.node');

function load(): NativeBinding {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(bindingPath) as NativeBinding;
  } catch (error) {
    throw new Error(
      `@tta/native: cannot load the addon from ${bindingPath} (${(error as Error).message}). ` +
        'Build it with `pnpm install` or `pnpm --filter @tta/native build` (needs cmake and a C++17 compiler).',
    );
  }
}

export const binding: NativeBinding = load();
