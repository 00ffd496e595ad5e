// The native backend's buffer pool (lib/memory.ts): kernel outputs are reused once
// disposed, and nothing anyone else can still see is ever reused.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { backendInfo } from '../lib';
import { BufferPool, POOLED_MIN_LENGTH } from '../lib/memory';

const LENGTH = POOLED_MIN_LENGTH * 4;

/** The typed array behind a tensor, read the way the kernels do (not through readSync). */
function storage(t: tf.Tensor): unknown {
  const backend = tf.backend() as unknown as { data: { get(id: unknown): { values: unknown } } };
  return backend.data.get(t.dataId).values;
}

beforeAll(() => tf.setBackend('native'));

describe('BufferPool', () => {
  it('reuses a released buffer of the same length, and only buffers it allocated', () => {
    const pool = new BufferPool();
    const a = pool.take(LENGTH);
    pool.hold(a);
    pool.release(a);
    expect(pool.pooledBytes).toBe(LENGTH * 4);
    expect(pool.take(LENGTH)).toBe(a);
    expect(pool.take(LENGTH + 1)).not.toBe(a);
    const foreign = new Float32Array(LENGTH);
    pool.hold(foreign);
    pool.release(foreign);
    expect(pool.pooledBytes).toBe(0);
  });

  it('waits for every holder, never reuses an escaped buffer, and leaves small ones to the allocator', () => {
    const pool = new BufferPool();
    const a = pool.take(LENGTH);
    pool.hold(a);
    pool.hold(a);
    pool.release(a);
    expect(pool.pooledBytes).toBe(0);
    pool.release(a);
    expect(pool.take(LENGTH)).toBe(a);
    pool.hold(a);
    pool.escape(a);
    pool.release(a);
    expect(pool.take(LENGTH)).not.toBe(a);
    const small = pool.take(POOLED_MIN_LENGTH - 1);
    pool.hold(small);
    pool.release(small);
    expect(pool.pooledBytes).toBe(0);
  });
});

describe('the native backend with the pool', () => {
  const x = () => tf.fill([LENGTH], 2);

  it('gives a disposed kernel output to the next one of that length', () => {
    const input = x();
    const first = tf.exp(input);
    const buffer = storage(first);
    first.dispose();
    expect(backendInfo().pooledBytes).toBeGreaterThanOrEqual(LENGTH * 4);
    const second = tf.sqrt(input);
    expect(storage(second)).toBe(buffer);
    expect(second.dataSync()[0]).toBeCloseTo(Math.SQRT2, 6);
    tf.dispose([input, second]);
  });

  it('never reuses what dataSync or data handed out, or a user array given to tf.tensor', async () => {
    const input = x();
    const read = tf.exp(input);
    const values = read.dataSync();
    read.dispose();
    const asyncRead = tf.exp(input);
    const asyncValues = await asyncRead.data();
    asyncRead.dispose();
    const mine = new Float32Array(LENGTH).fill(7);
    const wrapped = tf.tensor(mine);
    const viaUser = tf.neg(wrapped);
    wrapped.dispose();
    // Plenty of kernels of that length, each free to take a pooled buffer.
    const outputs = [1, 2, 3, 4].map(() => tf.neg(input));
    expect(values[0]).toBeCloseTo(Math.exp(2), 4);
    expect(values.every((v) => v === values[0])).toBe(true);
    expect(asyncValues[LENGTH - 1]).toBeCloseTo(Math.exp(2), 4);
    expect(mine.every((v) => v === 7)).toBe(true);
    for (const o of outputs) expect([values, asyncValues, mine]).not.toContain(storage(o));
    tf.dispose([input, viaUser, ...outputs]);
  });

  it('keeps a buffer until every view of it is disposed, and never reuses one a view handed out', () => {
    const input = x();
    const blockOf = (t: tf.Tensor) => (storage(t) as Float32Array).buffer;
    // The cpu backend's Slice (and Split, Unpack) returns subarrays of its input's buffer.
    const split = () => {
      const y = tf.exp(input);
      const block = blockOf(y);
      const parts = tf.split(y, 2);
      y.dispose();
      return { block, parts };
    };
    const viewed = split();
    const others = [1, 2, 3].map(() => tf.neg(input));
    for (const o of others) expect(blockOf(o)).not.toBe(viewed.block);
    expect(viewed.parts[0]!.dataSync()[0]).toBeCloseTo(Math.exp(2), 4);
    expect(viewed.parts[1]!.dataSync()[LENGTH / 2 - 1]).toBeCloseTo(Math.exp(2), 4);
    tf.dispose(viewed.parts);
    // Those dataSync calls handed views out: their buffer must not come back.
    const again = [1, 2, 3].map(() => tf.sqrt(input));
    for (const o of again) expect(blockOf(o)).not.toBe(viewed.block);
    // Views never read: once both are disposed, the buffer is reused.
    const unread = split();
    tf.dispose(unread.parts);
    const next = tf.sqrt(input);
    expect(blockOf(next)).toBe(unread.block);
    tf.dispose([input, ...others, ...again, next]);
  });

  it('keeps a buffer shared by reshaped tensors until the last one is disposed', () => {
    const input = x();
    const y = tf.exp(input);
    const view = tf.reshape(y, [LENGTH / 4, 4]);
    y.dispose();
    const other = tf.neg(input);
    expect(storage(other)).not.toBe(storage(view));
    expect(view.dataSync()[0]).toBeCloseTo(Math.exp(2), 4);
    tf.dispose([input, view, other]);
  });
});
