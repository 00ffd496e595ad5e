/**
 * Reuse of the native kernels' large output buffers. The cpu backend frees a tensor's memory
 * only when V8 collects its typed array: a training step of the reference CNN allocates
 * about 400 MB of 16 MB activations, and V8 answers that "external memory pressure" with a
 * garbage collection every few kernels (about a fifth of the step, measured), and fresh
 * memory costs page faults and cache misses. Here a disposed tensor's buffer goes back to a
 * free list when nothing else can see it, and the next kernel output of that length takes it.
 *
 * A buffer is recycled only when all of these hold:
 * - a native kernel allocated it (never a user's array handed to tf.tensor);
 * - every tensor data entry holding it was disposed (a kernel may store one array under
 *   several data ids);
 * - it was never handed out by readSync or read (dataSync(), data(), arraySync()...), since
 *   the caller may keep using it after disposing the tensor.
 */

/** Below this many elements the zero-fill costs less than the bookkeeping. */
export const POOLED_MIN_LENGTH = 1 << 14;
/** Free buffers kept at most, in bytes; beyond that they are left to the garbage collector. */
export const POOL_CAPACITY_BYTES = 512 * 2 ** 20;

export class BufferPool {
  /** Buffers a kernel allocated that may come back: how many data entries hold each. */
  private readonly holders = new Map<Float32Array, number>();
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;

  /** A buffer of `length` floats with arbitrary contents (callers write all of it). */
  take(length: number): Float32Array {
    if (length < POOLED_MIN_LENGTH) return new Float32Array(length);
    const reused = this.free.get(length)?.pop();
    let buffer: Float32Array;
    if (reused !== undefined) {
      this.freeBytes -= reused.byteLength;
      buffer = reused;
    } else {
      // Not zero-filled: a full extra pass over memory on these bandwidth-bound kernels.
      const bytes = Buffer.allocUnsafeSlow(length * 4);
      buffer = new Float32Array(bytes.buffer, bytes.byteOffset, length);
    }
    this.holders.set(buffer, 0);
    return buffer;
  }

  /** A data entry now holds `values`. */
  hold(values: unknown): void {
    const count = this.holders.get(values as Float32Array);
    if (count !== undefined) this.holders.set(values as Float32Array, count + 1);
  }

  /** A data entry holding `values` was deleted; the last one returns the buffer to the free list. */
  release(values: unknown): void {
    const buffer = values as Float32Array;
    const count = this.holders.get(buffer);
    if (count === undefined) return;
    if (count > 1) {
      this.holders.set(buffer, count - 1);
      return;
    }
    this.holders.delete(buffer);
    if (this.freeBytes + buffer.byteLength > POOL_CAPACITY_BYTES) return;
    let list = this.free.get(buffer.length);
    if (list === undefined) this.free.set(buffer.length, (list = []));
    list.push(buffer);
    this.freeBytes += buffer.byteLength;
  }

  /** `values` was handed to code outside the backend: never reuse it. */
  escape(values: unknown): void {
    this.holders.delete(values as Float32Array);
  }

  /** Bytes of free buffers waiting for reuse. */
  get pooledBytes(): number {
    return this.freeBytes;
  }

  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
  }
}

/** The one pool behind every native kernel's output. */
export const bufferPool = new BufferPool();
