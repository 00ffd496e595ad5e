import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { isTtaError } from '@tta/util';
import { decodeImageFile, imageFileSource, listImageFiles, loadImageFolder, readImages, scanImageFolder } from '../src';
import { decodeBmp } from '../src/bmp';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tta-folder-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A w x h RGB image whose pixel (y, x) is (x * 16 + seed, y * 16, 255 - seed), as raw bytes. */
function pattern(w: number, h: number, seed = 0, channels = 3): Buffer {
  const data = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * channels;
      data[o] = (x * 16 + seed) & 255;
      if (channels > 1) data[o + 1] = (y * 16) & 255;
      if (channels > 2) data[o + 2] = 255 - seed;
      if (channels > 3) data[o + 3] = 100;
    }
  }
  return data;
}

async function write(file: string, raw: Buffer, w: number, h: number, channels: 1 | 2 | 3 | 4 = 3): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const image = sharp(raw, { raw: { width: w, height: h, channels } });
  const ext = path.extname(file);
  if (ext === '.png') await image.png().toFile(file);
  else if (ext === '.jpg') await image.jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toFile(file);
  else if (ext === '.webp') await image.webp({ lossless: true }).toFile(file);
  else if (ext === '.tif') await image.tiff({ compression: 'lzw' }).toFile(file);
  else if (ext === '.gif') await image.gif().toFile(file);
  else if (ext === '.avif') await image.avif({ lossless: true }).toFile(file);
  else throw new Error(ext);
}

/** An uncompressed 24-bit bottom-up BMP. */
function bmp(raw: Buffer, w: number, h: number): Buffer {
  const stride = Math.ceil((w * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * h);
  out.write('BM', 0, 'ascii');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(w, 18);
  out.writeInt32LE(h, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      const d = 54 + (h - 1 - y) * stride + x * 3;
      out[d] = raw[s + 2]!;
      out[d + 1] = raw[s + 1]!;
      out[d + 2] = raw[s]!;
    }
  }
  return out;
}

describe('decodeImageFile', () => {
  test.each(['.png', '.webp', '.tif', '.avif'])(
    'reads lossless %s pixels exactly when no resize is needed',
    async (ext) => {
      const raw = pattern(8, 6, 3);
      const file = path.join(dir, `a${ext}`);
      await write(file, raw, 8, 6);
      for (const resize of ['fill', 'cover', 'contain'] as const) {
        const out = await decodeImageFile(file, { size: [6, 8], resize });
        expect(Buffer.from(out)).toEqual(raw);
      }
    },
  );

  test('reads BMP files (which libvips cannot) through a small decoder', async () => {
    const raw = pattern(5, 3, 7);
    const file = path.join(dir, 'a.bmp');
    fs.writeFileSync(file, bmp(raw, 5, 3));
    expect(Buffer.from(await decodeImageFile(file, { size: [3, 5] }))).toEqual(raw);
    expect(() => decodeBmp(Buffer.from('BMxx'))).toThrow(/too short/);
  });

  test('reads JPEG and GIF (lossy, palette) close to the original', async () => {
    const raw = pattern(16, 16, 40);
    for (const ext of ['.jpg', '.gif']) {
      const file = path.join(dir, `b${ext}`);
      await write(file, raw, 16, 16);
      const out = await decodeImageFile(file, { size: [16, 16] });
      let diff = 0;
      for (let i = 0; i < raw.length; i++) diff = Math.max(diff, Math.abs(out[i]! - raw[i]!));
      expect(diff).toBeLessThan(ext === '.jpg' ? 24 : 40);
    }
  });

  test('grayscale becomes RGB, RGBA loses its alpha, and channels: 1 gives one channel', async () => {
    const gray = path.join(dir, 'g.png');
    await write(gray, pattern(4, 4, 0, 1), 4, 4, 1);
    const rgb = await decodeImageFile(gray, { size: [4, 4] });
    expect(rgb.length).toBe(48);
    for (let i = 0; i < 16; i++) expect([rgb[i * 3 + 1], rgb[i * 3 + 2]]).toEqual([rgb[i * 3], rgb[i * 3]]);
    const rgba = path.join(dir, 'rgba.png');
    const raw = pattern(4, 4, 9, 4);
    await write(rgba, raw, 4, 4, 4);
    const out = await decodeImageFile(rgba, { size: [4, 4] });
    expect(Array.from(out.subarray(0, 3))).toEqual([raw[0], raw[1], raw[2]]);
    expect((await decodeImageFile(rgba, { size: [4, 4], channels: 1 })).length).toBe(16);
  });

  test('applies the EXIF orientation', async () => {
    const raw = pattern(4, 2, 0);
    const file = path.join(dir, 'rotated.png');
    // Orientation 6: the stored 4x2 image is shown rotated 90 degrees clockwise, as 2x4.
    await sharp(raw, { raw: { width: 4, height: 2, channels: 3 } })
      .png()
      .withMetadata({ orientation: 6 })
      .toFile(file);
    const out = await decodeImageFile(file, { size: [4, 2] });
    // Displayed pixel (y=0, x=1) is stored pixel (y=0, x=0) after a clockwise turn of a 2-row image.
    expect(Array.from(out.subarray(3, 6))).toEqual(Array.from(raw.subarray(0, 3)));
  });

  test('resizes: fill stretches, cover crops the centre, contain letterboxes, resizeFrom scales then crops', async () => {
    // 8x4 image: left half red, right half blue.
    const raw = Buffer.alloc(8 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) raw[(y * 8 + x) * 3 + (x < 4 ? 0 : 2)] = 200;
    const file = path.join(dir, 'wide.png');
    await write(file, raw, 8, 4);
    const cover = await decodeImageFile(file, { size: [4, 4], resize: 'cover' });
    expect(cover.length).toBe(48);
    // Centre crop of 4 columns: two red then two blue.
    expect([cover[0], cover[2], cover[9], cover[11]]).toEqual([200, 0, 0, 200]);
    const contain = await decodeImageFile(file, { size: [4, 4], resize: 'contain', background: [7, 7, 7] });
    // 4x2 picture in the middle rows, background rows above and below.
    expect(Array.from(contain.subarray(0, 3))).toEqual([7, 7, 7]);
    expect(contain[4 * 3 + 0]).toBeGreaterThan(100);
    const fill = await decodeImageFile(file, { size: [2, 2], resize: 'fill' });
    // Stretched to 2x2: the left column is mostly red, the right mostly blue.
    expect(fill[0]).toBeGreaterThan(150);
    expect(fill[2]).toBeLessThan(50);
    expect(fill[5]).toBeGreaterThan(150);
    expect(fill[3]).toBeLessThan(50);
    const from = await decodeImageFile(file, { size: [4, 4], resizeFrom: 4 });
    expect(Buffer.from(from)).toEqual(Buffer.from(cover));
  });

  test('a corrupt, truncated, empty or missing file is a DataError naming the file', async () => {
    const good = path.join(dir, 'good.jpg');
    await write(good, pattern(32, 32), 32, 32);
    const bytes = fs.readFileSync(good);
    const cases: Record<string, Buffer | undefined> = {
      'truncated.jpg': bytes.subarray(0, Math.floor(bytes.length / 2)),
      'text.png': Buffer.from('not an image at all'),
      'empty.webp': Buffer.alloc(0),
      'missing.png': undefined,
    };
    for (const [name, content] of Object.entries(cases)) {
      const file = path.join(dir, name);
      if (content) fs.writeFileSync(file, content);
      const error = await decodeImageFile(file, { size: [32, 32] }).catch((e: unknown) => e);
      expect(isTtaError(error, 'TTA_DATA_INVALID')).toBe(true);
      expect((error as Error).message).toContain(file);
    }
  });

  test('rejects bad options by name', async () => {
    await expect(decodeImageFile('x.png', { size: [0, 4] })).rejects.toThrow('for options.size[0]');
    await expect(decodeImageFile('x.png', { size: [4, 4], resize: 'stretch' as 'fill' })).rejects.toThrow(
      'Expected one of fill, cover, contain for options.resize',
    );
    await expect(decodeImageFile('x.png', { size: [8, 8], resizeFrom: 4 })).rejects.toThrow(
      'Expected a size of at least 8 (the output) for options.resizeFrom',
    );
    await expect(decodeImageFile('x.png', { size: [4, 4], channels: 4 as 3 })).rejects.toThrow('options.channels');
  });
});

describe('scanImageFolder', () => {
  async function makeFolder(): Promise<void> {
    await write(path.join(dir, 'dog', 'b.png'), pattern(4, 4, 1), 4, 4);
    await write(path.join(dir, 'dog', 'a.png'), pattern(4, 4, 2), 4, 4);
    await write(path.join(dir, 'cat', 'nested', 'c.png'), pattern(4, 4, 3), 4, 4);
    fs.writeFileSync(path.join(dir, 'cat', 'notes.txt'), 'ignored');
    fs.writeFileSync(path.join(dir, 'cat', '.hidden.png'), 'ignored');
  }

  test('classes are the sorted sub-folders; files sorted within each; other files ignored', async () => {
    await makeFolder();
    const index = scanImageFolder(dir);
    expect(index.classes).toEqual(['cat', 'dog']);
    expect(index.files.map((f) => path.relative(dir, f))).toEqual(['cat/nested/c.png', 'dog/a.png', 'dog/b.png']);
    expect(Array.from(index.labels)).toEqual([0, 1, 1]);
    expect(index.counts).toEqual([1, 2]);
  });

  test('labels give the model order; a folder outside them is an error', async () => {
    await makeFolder();
    const index = scanImageFolder(dir, { labels: ['dog', 'bird', 'cat'] });
    expect(index.classes).toEqual(['dog', 'bird', 'cat']);
    expect(Array.from(index.labels)).toEqual([2, 0, 0]);
    expect(index.counts).toEqual([2, 0, 1]);
    expect(() => scanImageFolder(dir, { labels: ['dog'] })).toThrow(
      /class folders cat of .* are not among the 1 class names/,
    );
  });

  test('clear errors: missing folder, a file, no class folders, an empty class, images at the top', async () => {
    expect(() => scanImageFolder(path.join(dir, 'nope'))).toThrow(/does not exist/);
    fs.writeFileSync(path.join(dir, 'file'), '');
    expect(() => scanImageFolder(path.join(dir, 'file'))).toThrow(/is a file, not a folder/);
    fs.rmSync(path.join(dir, 'file'));
    expect(() => scanImageFolder(dir)).toThrow(/has no class sub-folders/);
    fs.mkdirSync(path.join(dir, 'empty'));
    expect(() => scanImageFolder(dir)).toThrow(/class folder .*empty holds no images/);
    fs.rmdirSync(path.join(dir, 'empty'));
    await write(path.join(dir, 'top.png'), pattern(2, 2), 2, 2);
    expect(() => scanImageFolder(dir)).toThrow(/holds image files at its top level \(top\.png\)/);
  });

  test('listImageFiles takes files and folders, in order, without duplicates', async () => {
    await makeFolder();
    const files = listImageFiles([
      path.join(dir, 'dog'),
      path.join(dir, 'cat', 'nested', 'c.png'),
      path.join(dir, 'dog', 'a.png'),
    ]);
    expect(files.map((f) => path.relative(dir, f))).toEqual(['dog/a.png', 'dog/b.png', 'cat/nested/c.png']);
    expect(() => listImageFiles([path.join(dir, 'cat', 'notes.txt')])).not.toThrow();
    fs.mkdirSync(path.join(dir, 'none'));
    expect(() => listImageFiles([path.join(dir, 'none')])).toThrow(/No image files/);
  });
});

describe('readImages and loadImageFolder', () => {
  async function makeFiles(n: number): Promise<string[]> {
    const files: string[] = [];
    for (let i = 0; i < n; i++) {
      const file = path.join(dir, `c${i % 2}`, `${String(i).padStart(3, '0')}.png`);
      await write(file, pattern(3, 2, i), 3, 2);
      files.push(file);
    }
    return files;
  }

  test('chunks come in file order, every image once, for any chunk size', async () => {
    const files = await makeFiles(11);
    for (const chunkSize of [1, 4, 11, 50]) {
      const seen: number[] = [];
      for await (const chunk of readImages(files, { size: [2, 3], chunkSize, concurrency: 3 })) {
        expect(chunk.count).toBe(chunk.indices.length);
        chunk.indices.forEach((fileIndex, j) => {
          // The red channel of pixel (0, 0) is the seed: the file's own index.
          expect(chunk.images[j * 18]).toBe(fileIndex);
          seen.push(fileIndex);
        });
      }
      expect(seen).toEqual(Array.from({ length: 11 }, (_, i) => i));
    }
  });

  test('a bad file fails the read by name, or is skipped and reported with skipBad', async () => {
    const files = await makeFiles(5);
    fs.writeFileSync(files[2]!, 'broken');
    const all = async (skipBad: boolean) => {
      const chunks = [];
      for await (const chunk of readImages(files, { size: [2, 3], chunkSize: 2, skipBad })) chunks.push(chunk);
      return chunks;
    };
    await expect(all(false)).rejects.toThrow(files[2]!);
    const chunks = await all(true);
    expect(chunks.flatMap((c) => Array.from(c.indices))).toEqual([0, 1, 3, 4]);
    expect(chunks.flatMap((c) => c.skipped.map((s) => s.file))).toEqual([files[2]]);
  });

  test('stops at an aborted signal', async () => {
    const files = await makeFiles(6);
    const controller = new AbortController();
    let chunks = 0;
    for await (const _chunk of readImages(files, { size: [2, 3], chunkSize: 2, signal: controller.signal })) {
      chunks++;
      controller.abort();
    }
    expect(chunks).toBe(1);
  });

  test('loadImageFolder holds a labelled folder in memory, with what it skipped', async () => {
    const files = await makeFiles(6);
    fs.writeFileSync(files[3]!, 'broken');
    const data = await loadImageFolder(dir, { size: [2, 3], skipBad: true, chunkSize: 4 });
    expect(data.classes).toEqual(['c0', 'c1']);
    expect(data.count).toBe(5);
    expect(data.images.length).toBe(5 * 18);
    expect(Array.from(data.labels)).toEqual([0, 0, 0, 1, 1]);
    expect(data.files.map((f) => path.basename(f))).toEqual(['000.png', '002.png', '004.png', '001.png', '005.png']);
    expect(data.skipped.map((s) => path.basename(s.file))).toEqual(['003.png']);
  });
});

test('imageFileSource reads the files in the chunks asked for, every pass, and lists what it skipped', async () => {
  const files: string[] = [];
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, `${i}.png`);
    await write(file, pattern(2, 2, i * 10), 2, 2);
    files.push(file);
  }
  fs.writeFileSync(files[1]!, 'broken');
  const source = imageFileSource(files, { size: [2, 2], skipBad: true });
  expect(source).toMatchObject({ count: 5, height: 2, width: 2, channels: 3 });
  for (let pass = 0; pass < 2; pass++) {
    const indices: number[] = [];
    for await (const chunk of source.chunks(2)) {
      expect(chunk.count).toBeLessThanOrEqual(2);
      indices.push(...chunk.indices);
    }
    expect(indices).toEqual([0, 2, 3, 4]);
    expect(source.skipped.map((s) => s.index)).toEqual([1]);
  }
});
