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
 * - every tensor data entry holding it or a view of it was disposed (a kernel may store one
 *   array under several data ids, and Slice stores subarrays);
 * - neither it nor a view of it was ever handed out by readSync or read (dataSync(), data(),
 *   arraySync()...), since the caller may keep using it after disposing the tensor.
 */

/** Below this many elements the zero-fill costs less than the bookkeeping. */
export const POOLED_MIN_LENGTH = 1 << 14;
/** Free buffers kept at most, in bytes; beyond that they are left to the garbage collector. */
export const POOL_CAPACITY_BYTES = 512 * 2 ** 20;

/** The memory block behind a typed array (views made by subarray share their parent's). */
function blockOf(values: unknown): ArrayBufferLike | undefined {
  return ArrayBuffer.isView(values) ? values.buffer : undefined;
}

export class BufferPool {
  /**
   * Memory blocks a kernel allocated that may come back, by block, so that views of a
   * buffer (the cpu backend's Slice, Split and Unpack return subarrays under new data ids)
   * count as holders of it. Weak: a block whose kernel failed before storing it is collected.
   */
  private holders = new WeakMap<ArrayBufferLike, { buffer: Float32Array; count: number }>();
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
      // Not zero-filled: a full extra pass over memory on these bandwidth-bound kernels. Its
      // own block (allocUnsafeSlow never shares Node's pool), so the block identifies it.
      const bytes = Buffer.allocUnsafeSlow(length * 4);
      buffer = new Float32Array(bytes.buffer, bytes.byteOffset, length);
    }
    this.holders.set(buffer.buffer, { buffer, count: 0 });
    return buffer;
  }

  /** A data entry now holds `values` (a pooled buffer or a view of one). */
  hold(values: unknown): void {
    const block = blockOf(values);
    const entry = block === undefined ? undefined : this.holders.get(block);
    if (entry !== undefined) entry.count++;
  }

  /** A data entry holding `values` was deleted; the last holder returns the buffer to the free list. */
  release(values: unknown): void {
    const block = blockOf(values);
    const entry = block === undefined ? undefined : this.holders.get(block);
    if (entry === undefined) return;
    if (entry.count > 1) {
      entry.count--;
      return;
    }
    this.holders.delete(block!);
    const { buffer } = entry;
    if (this.freeBytes + buffer.byteLength > POOL_CAPACITY_BYTES) return;
    let list = this.free.get(buffer.length);
    if (list === undefined) this.free.set(buffer.length, (list = []));
    list.push(buffer);
    this.freeBytes += buffer.byteLength;
  }

  /** `values` (or a view of it) was handed to code outside the backend: never reuse its block. */
  escape(values: unknown): void {
    const block = blockOf(values);
    if (block !== undefined) this.holders.delete(block);
  }

  /** Bytes of free buffers waiting for reuse. */
  get pooledBytes(): number {
    return this.freeBytes;
  }

  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
    this.holders = new WeakMap();
  }
}

/** The one pool behind every native kernel's output. */
export const bufferPool = new BufferPool();
