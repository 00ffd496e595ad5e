// Windows bitmaps, which libvips (and so sharp) cannot read: the uncompressed kinds that
// cameras, scanners and old datasets write (24- and 32-bit, and 8-bit with a palette),
// decoded to RGB rows top-down for sharp to resize. Anything else is an error saying so.

export interface DecodedBmp {
  width: number;
  height: number;
  channels: 3;
  data: Uint8Array;
}

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;

export function decodeBmp(bytes: Uint8Array): DecodedBmp {
  const fail = (why: string): never => {
    throw new Error(`unsupported or corrupt BMP: ${why}`);
  };
  if (!isBmp(bytes) || bytes.length < 54) fail('too short for a BMP header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 40) fail(`an OS/2 header of ${headerSize} bytes`);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bits = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width < 1 || height < 1 || width > 1 << 16 || height > 1 << 16) fail(`a size of ${width}x${rawHeight}`);
  if (!(compression === BI_RGB || (compression === BI_BITFIELDS && bits === 32))) fail(`compression ${compression}`);
  if (bits !== 8 && bits !== 24 && bits !== 32) fail(`${bits} bits per pixel`);
  const stride = Math.ceil((width * bits) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) fail('the pixel data is truncated');
  let palette: Uint8Array | undefined;
  if (bits === 8) {
    const colours = view.getUint32(46, true) || 256;
    const paletteStart = 14 + headerSize;
    if (paletteStart + colours * 4 > dataOffset) fail('the palette is truncated');
    palette = bytes.subarray(paletteStart, paletteStart + colours * 4);
  }
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (palette) {
        const p = bytes[row + x]! * 4;
        if (p + 2 >= palette.length) fail('a pixel outside the palette');
        data[o] = palette[p + 2]!;
        data[o + 1] = palette[p + 1]!;
        data[o + 2] = palette[p]!;
      } else {
        const s = row + x * (bits / 8);
        data[o] = bytes[s + 2]!;
        data[o + 1] = bytes[s + 1]!;
        data[o + 2] = bytes[s]!;
      }
    }
  }
  return { width, height, channels: 3, data };
}
