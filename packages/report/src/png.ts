// A minimal PNG encoder (8-bit grayscale, RGB or RGBA, no interlace, filter 0 per row) with
// zlib from Node, for the gallery's thumbnails as data: URIs.
import { deflateSync } from 'node:zlib';
import { outOfRangeError } from '@tta/util';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const COLOUR_TYPES: Record<number, number> = { 1: 0, 3: 2, 4: 6 };

/** PNG bytes of an 8-bit image, rows top to bottom, channels interleaved (1, 3 or 4). */
export function encodePng(width: number, height: number, channels: number, pixels: Uint8Array): Buffer {
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 65535)
      throw outOfRangeError(name, 'an integer between 1 and 65535', value);
  }
  const colourType = COLOUR_TYPES[channels];
  if (colourType === undefined) throw outOfRangeError('channels', '1, 3 or 4', channels);
  if (!(pixels instanceof Uint8Array) || pixels.length !== width * height * channels)
    throw outOfRangeError('pixels', `a Uint8Array of ${width * height * channels} values`, pixels);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = colourType;
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

export function pngDataUri(width: number, height: number, channels: number, pixels: Uint8Array): string {
  return `data:image/png;base64,${encodePng(width, height, channels, pixels).toString('base64')}`;
}
