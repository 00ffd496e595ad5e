// CIFAR stores each image as three 1024-byte planes (all red, all green, all
// blue); everything downstream wants NHWC (r,g,b per pixel). A plain JS loop
// does that reshuffle at ~0.6 GB/s here, which alone would take ~300 ms for
// CIFAR-10, so it is done by a tiny WebAssembly SIMD function instead: three
// 16-byte loads (16 pixels of each plane), six byte shuffles, three 16-byte
// stores. The module is a few hundred bytes, assembled below from named
// opcodes so there is no binary artifact or build step to keep in sync.
//
// The function works in place inside one WebAssembly.Memory that becomes the
// split's image buffer: a file is read to the spot where its first image's
// output goes, and each record is copied to a scratch area before its output
// is written. Output record r ends at (r+1)*3072 while input record r+1 starts
// at (r+1)*recordBytes + labelBytes >= (r+1)*3072, so no unread input is ever
// overwritten. Reading straight into the final buffer avoids a second 150 MB
// allocation and copy.

export const PIXELS = 32 * 32;
export const IMAGE_BYTES = PIXELS * 3;

const I32 = 0x7f;
const V128 = 0x7b;

function uleb(value: number): number[] {
  const bytes: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0);
  return bytes;
}

function sleb(value: number): number[] {
  const bytes: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (text: string): number[] => [...uleb(text.length), ...Array.from(text, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const op = {
  get: (local: number) => [0x20, local],
  set: (local: number) => [0x21, local],
  tee: (local: number) => [0x22, local],
  const: (value: number) => [0x41, ...sleb(value)],
  add: [0x6a],
  mul: [0x6c],
  ltU: [0x49],
  geU: [0x4f],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, depth],
  memoryCopy: [0xfc, 0x0a, 0x00, 0x00],
  v128Load: (offset: number) => [0xfd, 0x00, 0x00, ...uleb(offset)],
  v128Store: (offset: number) => [0xfd, 0x0b, 0x00, ...uleb(offset)],
  shuffle: (lanes: number[]) => [0xfd, 0x0d, ...lanes],
};

/**
 * Lanes for output vector k (bytes 16k..16k+15 of 48 interleaved bytes) of one
 * 16-pixel group: first shuffle(red, green) places red and green bytes (lanes
 * 0-15 pick red, 16-31 green), then shuffle(that, blue) keeps them and fills
 * the blue bytes (16-31 pick blue).
 */
function interleaveLanes(k: number): { redGreen: number[]; blue: number[] } {
  const redGreen: number[] = [];
  const blue: number[] = [];
  for (let j = 0; j < 16; j++) {
    const position = 16 * k + j;
    const pixel = Math.floor(position / 3);
    const channel = position % 3;
    redGreen.push(channel === 0 ? pixel : channel === 1 ? 16 + pixel : 0);
    blue.push(channel === 2 ? 16 + pixel : j);
  }
  return { redGreen, blue };
}

/** interleave(src, dst, count, stride, scratch): src is record 0's first pixel byte. */
function moduleBytes(): Uint8Array {
  // params 0 src, 1 dst, 2 count, 3 stride, 4 scratch; locals 5 dstEnd, 6 plane offset, 7 red, 8 green, 9 blue
  const [src, dst, count, stride, scratch, dstEnd, offset, red, green, blue] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const store = (k: number) => {
    const lanes = interleaveLanes(k);
    return [
      ...op.get(dst),
      ...op.get(red),
      ...op.get(green),
      ...op.shuffle(lanes.redGreen),
      ...op.get(blue),
      ...op.shuffle(lanes.blue),
      ...op.v128Store(16 * k),
    ];
  };
  const body = [
    ...op.get(dst),
    ...op.get(count),
    ...op.const(IMAGE_BYTES),
    ...op.mul,
    ...op.add,
    ...op.set(dstEnd),
    ...op.block,
    ...op.get(dst),
    ...op.get(dstEnd),
    ...op.geU,
    ...op.brIf(0),
    ...op.loop, // one record per iteration
    ...op.get(scratch),
    ...op.get(src),
    ...op.const(IMAGE_BYTES),
    ...op.memoryCopy,
    ...op.const(0),
    ...op.set(offset),
    ...op.loop, // 16 pixels per iteration
    ...op.get(scratch),
    ...op.get(offset),
    ...op.add,
    ...op.v128Load(0),
    ...op.set(red),
    ...op.get(scratch),
    ...op.get(offset),
    ...op.add,
    ...op.v128Load(PIXELS),
    ...op.set(green),
    ...op.get(scratch),
    ...op.get(offset),
    ...op.add,
    ...op.v128Load(2 * PIXELS),
    ...op.set(blue),
    ...store(0),
    ...store(1),
    ...store(2),
    ...op.get(dst),
    ...op.const(48),
    ...op.add,
    ...op.set(dst),
    ...op.get(offset),
    ...op.const(16),
    ...op.add,
    ...op.tee(offset),
    ...op.const(PIXELS),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end,
    ...op.get(src),
    ...op.get(stride),
    ...op.add,
    ...op.set(src),
    ...op.get(dst),
    ...op.get(dstEnd),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end,
    ...op.end,
    ...op.end,
  ];
  // two i32 locals (dstEnd, offset), three v128 (red, green, blue)
  const locals = [...uleb(2), ...uleb(2), I32, ...uleb(3), V128];
  const code = [...locals, ...body];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32], [I32], [I32]]), 0x00]])),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vector([[0x00]])),
    ...section(7, vector([[...name('interleave'), 0x00, 0x00]])),
    ...section(10, vector([[...uleb(code.length), ...code]])),
  ]);
}

// The TS libs this repo builds with (ES2022 + @types/node 20) do not declare
// WebAssembly, so the few parts used are typed here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;

export interface InterleaveMemory {
  /** The whole memory; images are bytes [0, count * 3072). */
  readonly bytes: Uint8Array;
  readonly memory: WasmMemory;
  /**
   * Interleaves `count` records whose first pixel byte is at `source`, `stride`
   * bytes apart, into NHWC at `destination` (which must be <= source).
   */
  interleave(source: number, destination: number, count: number, stride: number): void;
}

/**
 * A memory big enough for `imageCount` output images plus `slack` bytes past
 * them (where the last file's extra label bytes land), and the scratch record.
 */
export function createInterleaveMemory(imageCount: number, slack: number): InterleaveMemory {
  compiled ??= new wasm.Module(moduleBytes());
  const scratch = imageCount * IMAGE_BYTES + slack;
  const needed = scratch + IMAGE_BYTES;
  const pages = Math.max(1, Math.ceil(needed / 65536));
  if (pages > 65536)
    throw new RangeError(`Cannot hold ${imageCount} images in one buffer (${needed} bytes is over 4 GiB)`);
  const memory = new wasm.Memory({ initial: pages, maximum: pages });
  const instance = new wasm.Instance(compiled, { env: { memory } });
  const run = instance.exports.interleave as (
    src: number,
    dst: number,
    count: number,
    stride: number,
    scratch: number,
  ) => void;
  return {
    bytes: new Uint8Array(memory.buffer),
    memory,
    interleave(source, destination, count, stride) {
      if (count > 0) run(source, destination, count, stride, scratch);
    },
  };
}
