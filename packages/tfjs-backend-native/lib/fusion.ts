/**
 * Deferred convolution blocks: Conv2D (+ bias, activation) followed by an inference batch norm
 * and a max pooling, run as one kernel (src/kernels/ConvBlock.cc) that normalises and pools each
 * few images' convolution output while it is in cache. Keras' Conv2D -> BatchNormalization ->
 * MaxPooling2D (and the converter's _FusedConv2D -> FusedBatchNormV3 -> MaxPool) otherwise write
 * and re-read a full-size activation three times, which costs more than the first convolution.
 *
 * TensorFlow.js runs kernels one at a time, so the fusion happens at run time: a convolution's
 * output is a normal tensor whose buffer is filled only when something reads it. A FusedBatchNorm
 * or MaxPool kernel that receives such a tensor does not read it: it returns another deferred
 * tensor whose recipe extends the convolution's. The first read of any of them (a kernel's input,
 * dataSync, data...) runs its own recipe, so a tensor read later gets exactly the values the three
 * kernels would have given (the fused kernel computes the same bits); one never read (the conv
 * output inside a block) is never computed. A recipe keeps its inputs' buffers out of the buffer
 * pool until it has run or its tensor is disposed, so disposing an input early is safe.
 */
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { addon } from './addon';
import { bufferPool } from './memory';

/** The block a deferred tensor holds: a convolution, then optionally a batch norm, then a max pooling. */
export interface ConvBlockRecipe {
  x: Float32Array;
  filter: Float32Array;
  bias: Float32Array | null;
  activation: number;
  convDims: Int32Array;
  batchNorm?: {
    mean: Float32Array;
    variance: Float32Array;
    offset: Float32Array | null;
    scale: Float32Array | null;
    epsilon: number;
  };
  poolDims?: Int32Array;
  threads: number;
}

interface Pending {
  recipe: ConvBlockRecipe;
  buffer: Float32Array;
}

/** Data entries (the cpu backend's objects) whose buffer is still to be computed. */
const pendingEntries = new WeakMap<object, Pending>();

let enabled = process.env.TTA_NATIVE_FUSE !== '0';

/** Whether convolution blocks are deferred and fused (on unless TTA_NATIVE_FUSE=0). */
export function fusionEnabled(): boolean {
  return enabled;
}

export function setFusionEnabled(on: boolean): void {
  enabled = on;
}

let blocksRun = 0;
/** Fused blocks (with a batch norm or a pooling) run since the backend loaded, for tests and benchmarks. */
export function fusedBlocksRun(): number {
  return blocksRun;
}

function inputsOf(recipe: ConvBlockRecipe): Float32Array[] {
  const bn = recipe.batchNorm;
  return [recipe.x, recipe.filter, recipe.bias, bn?.mean, bn?.variance, bn?.offset, bn?.scale].filter(
    (v): v is Float32Array => v != null,
  );
}

function run(recipe: ConvBlockRecipe, out: Float32Array): void {
  const bn = recipe.batchNorm;
  if (bn === undefined && recipe.poolDims === undefined) {
    addon.conv2d(recipe.x, recipe.filter, recipe.bias, recipe.activation, recipe.convDims, out, recipe.threads);
    return;
  }
  addon.convBlock(
    recipe.x,
    recipe.filter,
    recipe.bias,
    recipe.activation,
    recipe.convDims,
    bn?.mean ?? null,
    bn?.variance ?? null,
    bn?.offset ?? null,
    bn?.scale ?? null,
    bn?.epsilon ?? 0,
    recipe.poolDims ?? null,
    out,
    recipe.threads,
  );
  blocksRun++;
}

/** Lets the recipe's input buffers go back to the pool (when nothing else holds them). */
function letGo(recipe: ConvBlockRecipe): void {
  for (const values of inputsOf(recipe)) bufferPool.release(values);
}

/**
 * Makes `info` (a tensor just created over `buffer`) deferred: its values are computed from
 * `recipe` on first read. The recipe's inputs are held until then.
 */
export function defer(backend: MathBackendCPU, info: TensorInfo, buffer: Float32Array, recipe: ConvBlockRecipe): void {
  const entry = backend.data.get(info.dataId) as { values?: unknown };
  for (const values of inputsOf(recipe)) bufferPool.hold(values);
  pendingEntries.set(entry, { recipe, buffer });
  Object.defineProperty(entry, 'values', {
    configurable: true,
    enumerable: true,
    get(): Float32Array {
      settle(entry);
      return buffer;
    },
    set(values: unknown) {
      cancel(entry);
      plain(entry, values);
    },
  });
}

/**
 * Computes a pending entry's buffer (once) and makes its values a plain property again. When
 * the kernel throws, the entry stays pending with its inputs held (a later read tries again).
 */
function settle(entry: object): void {
  const pending = pendingEntries.get(entry);
  if (pending === undefined) return;
  run(pending.recipe, pending.buffer);
  pendingEntries.delete(entry);
  plain(entry, pending.buffer);
  letGo(pending.recipe);
}

function plain(entry: object, values: unknown): void {
  Object.defineProperty(entry, 'values', { configurable: true, enumerable: true, writable: true, value: values });
}

/** Drops a pending entry's recipe without running it (its tensor is being disposed or overwritten). */
function cancel(entry: object): void {
  const pending = pendingEntries.get(entry);
  if (pending === undefined) return;
  pendingEntries.delete(entry);
  plain(entry, pending.buffer);
  letGo(pending.recipe);
}

/** The NHWC shape a recipe produces. */
function outputShape(recipe: ConvBlockRecipe): number[] {
  const [n, , , , , , outC, , , , , outH, outW] = recipe.convDims;
  if (recipe.poolDims === undefined) return [n!, outH!, outW!, outC!];
  const p = recipe.poolDims;
  return [p[0]!, p[10]!, p[11]!, p[3]!];
}

/**
 * The recipe behind a tensor whose values are still to be computed, without computing them;
 * undefined for any other tensor, or one that views a deferred buffer under another shape
 * (Reshape shares the data entry).
 */
export function pendingRecipe(backend: MathBackendCPU, t: TensorInfo | null | undefined): ConvBlockRecipe | undefined {
  if (t == null || t.dtype !== 'float32' || !backend.data.has(t.dataId)) return undefined;
  const recipe = pendingEntries.get(backend.data.get(t.dataId))?.recipe;
  if (recipe === undefined) return undefined;
  const shape = outputShape(recipe);
  return t.shape.length === 4 && t.shape.every((d, i) => d === shape[i]) ? recipe : undefined;
}

/** A data entry's buffer without computing it, for the backend's bookkeeping. */
export function peekValues(entry: object): unknown {
  return pendingEntries.get(entry)?.buffer ?? (entry as { values?: unknown }).values;
}

/** A disposed data entry: its recipe, if it never ran, will not (its inputs are let go). */
export function forgetEntry(entry: object): void {
  cancel(entry);
}
