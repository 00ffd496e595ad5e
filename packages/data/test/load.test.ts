import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CIFAR10_URL, findCifar10, findCifar10Dir, loadCifar10, loadCifar100 } from '../src';
import { CIFAR10_FILES, IMAGE, failure, makeRecords, naiveNhwc, tempDir, withEnv, writeCifar10 } from './helpers';

let root: string;
let restoreEnv: () => void;

beforeEach(() => {
  root = tempDir();
  restoreEnv = withEnv({
    TTA_DATA_DIR: undefined,
    TTA_CACHE_DIR: path.join(root, 'cache'),
    TTA_OFFLINE: undefined,
    TTA_CIFAR10_URL: undefined,
  });
});
afterEach(() => {
  restoreEnv();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('loadCifar10 from a folder (synthetic files)', () => {
  it('reads every batch into NHWC images and labels, in file order', async () => {
    const { dir, files } = writeCifar10(path.join(root, 'data'), 12);
    const progress: number[] = [];
    const dataset = await loadCifar10({
      dir,
      verify: false,
      download: false,
      onProgress: (p) => p.phase === 'read' && progress.push(p.done),
    });
    expect(dataset.name).toBe('cifar10');
    expect(dataset.source).toBe(dir);
    expect(dataset.classNames).toEqual([
      'airplane',
      'automobile',
      'bird',
      'cat',
      'deer',
      'dog',
      'frog',
      'horse',
      'ship',
      'truck',
    ]);
    expect(dataset.train).toMatchObject({ count: 60, height: 32, width: 32, channels: 3 });
    expect(dataset.test.count).toBe(12);
    const trainRecords = Buffer.concat(CIFAR10_FILES.slice(0, 5).map((f) => files[f] as Buffer));
    expect(Buffer.from(dataset.train.images).equals(Buffer.from(naiveNhwc(trainRecords, 1)))).toBe(true);
    expect(Buffer.from(dataset.test.images).equals(Buffer.from(naiveNhwc(files['test_batch.bin'] as Buffer, 1)))).toBe(
      true,
    );
    expect(Array.from(dataset.train.labels.subarray(0, 14))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 1, 2]);
    expect(Array.from(dataset.test.labels.subarray(0, 3))).toEqual([5, 6, 7]);
    expect(dataset.train.images.length).toBe(60 * IMAGE);
    expect(progress[0]).toBe(0);
    expect(progress).toContain(60);
    expect(progress[progress.length - 1]).toBe(72);
  });

  it('finds the data through dir (folder itself or its parent), then TTA_DATA_DIR, then the cache', async () => {
    const data = writeCifar10(path.join(root, 'data'));
    expect(findCifar10({ dir: path.join(root, 'data') }).found).toMatchObject({
      kind: 'directory',
      path: data.dir,
      origin: 'dir option',
    });
    expect(findCifar10Dir({ dir: data.dir })).toBe(data.dir);
    process.env.TTA_DATA_DIR = path.join(root, 'data');
    expect(findCifar10().found).toMatchObject({ path: data.dir, origin: 'TTA_DATA_DIR' });
    expect((await loadCifar10({ verify: false, download: false })).source).toBe(data.dir);
    // dir wins over TTA_DATA_DIR
    const other = writeCifar10(path.join(root, 'other'));
    expect(findCifar10({ dir: other.dir }).found?.path).toBe(other.dir);
    delete process.env.TTA_DATA_DIR;
    const cached = writeCifar10(path.join(root, 'cache', 'datasets'));
    expect(findCifar10().found).toMatchObject({ path: cached.dir, origin: 'cache' });
    const custom = writeCifar10(path.join(root, 'custom-cache', 'datasets'));
    expect(findCifar10({ cacheDir: path.join(root, 'custom-cache') }).found?.path).toBe(custom.dir);
  });

  it('says where it looked, the official URL and what to do when nothing is found and downloading is off', async () => {
    process.env.TTA_DATA_DIR = path.join(root, 'env-data');
    fs.mkdirSync(process.env.TTA_DATA_DIR);
    const error = await failure(loadCifar10({ dir: path.join(root, 'nowhere'), download: false }));
    expect(error.code).toBe('TTA_DATA_NOT_FOUND');
    expect(error.message).toContain(`${path.join(root, 'nowhere')} (dir option): does not exist`);
    expect(error.message).toContain(
      `${path.join(root, 'env-data')} (TTA_DATA_DIR): holds neither cifar-10-batches-bin/ nor cifar-10-binary.tar.gz`,
    );
    expect(error.message).toContain(`${path.join(root, 'cache', 'datasets')} (cache)`);
    expect(error.message).toContain(CIFAR10_URL);
    expect(error.message).toContain('TTA_DATA_DIR');
    expect(error.message).toMatch(/as dir/);
    expect(error.message).toContain('download: false');
  });

  it('does not download when TTA_OFFLINE is set', async () => {
    process.env.TTA_OFFLINE = '1';
    const error = await failure(loadCifar10());
    expect(error.code).toBe('TTA_DATA_NOT_FOUND');
    expect(error.message).toContain('TTA_OFFLINE');
  });

  it('rejects a file with a truncated record, naming it and the sizes', async () => {
    const { dir } = writeCifar10(path.join(root, 'data'), 4);
    const file = path.join(dir, 'data_batch_3.bin');
    fs.truncateSync(file, 4 * 3073 - 100);
    const error = await failure(loadCifar10({ dir, verify: false, download: false }));
    expect(error.code).toBe('TTA_DATA_INVALID');
    expect(error.file).toBe(file);
    expect(error.message).toContain(file);
    expect(error.message).toContain('truncated record');
    expect(error.message).toContain(`${4 * 3073 - 100} bytes are 3 whole records of 3073 bytes and 2973 bytes over`);
  });

  it('rejects an empty file', async () => {
    const { dir } = writeCifar10(path.join(root, 'data'), 4);
    fs.writeFileSync(path.join(dir, 'test_batch.bin'), '');
    const error = await failure(loadCifar10({ dir, verify: false, download: false }));
    expect(error.message).toContain(`${path.join(dir, 'test_batch.bin')} is empty`);
  });

  it('rejects a label out of range, naming the file, record and range', async () => {
    const { dir } = writeCifar10(path.join(root, 'data'), 4);
    const file = path.join(dir, 'data_batch_2.bin');
    const bytes = fs.readFileSync(file);
    bytes[2 * 3073] = 10;
    fs.writeFileSync(file, bytes);
    const error = await failure(loadCifar10({ dir, verify: false, download: false }));
    expect(error.code).toBe('TTA_DATA_INVALID');
    expect(error.message).toContain(
      `${file}: label 10 of record 2 (byte 6146) is out of range: CIFAR-10 labels are 0..9`,
    );
  });

  it('names a missing file and the layout it expected', async () => {
    const { dir } = writeCifar10(path.join(root, 'data'), 4);
    fs.rmSync(path.join(dir, 'data_batch_4.bin'));
    const error = await failure(loadCifar10({ dir, verify: false, download: false }));
    expect(error.code).toBe('TTA_DATA_MISSING_FILE');
    expect(error.message).toContain(`Missing file ${path.join(dir, 'data_batch_4.bin')}`);
    expect(error.message).toContain('data_batch_1.bin, data_batch_2.bin');
  });

  it('with verify on, rejects record counts other than the official ones', async () => {
    const { dir } = writeCifar10(path.join(root, 'data'), 4);
    const error = await failure(loadCifar10({ dir, download: false }));
    expect(error.code).toBe('TTA_DATA_INVALID');
    expect(error.message).toContain('holds 4 records but the official file holds 10000');
  });

  it('with verify on, rejects a file whose MD5 is wrong, giving the expected and actual MD5', async () => {
    const dir = path.join(root, 'data', 'cifar-10-batches-bin');
    fs.mkdirSync(dir, { recursive: true });
    // Sparse all-zero files of the official size: right counts, valid labels, wrong contents.
    for (const name of CIFAR10_FILES) {
      fs.writeFileSync(path.join(dir, name), '');
      fs.truncateSync(path.join(dir, name), 10000 * 3073);
    }
    const zerosMd5 = createHash('md5')
      .update(Buffer.alloc(10000 * 3073))
      .digest('hex');
    const error = await failure(loadCifar10({ dir, download: false }));
    expect(error.code).toBe('TTA_DATA_INVALID');
    expect(error.file).toBe(path.join(dir, 'data_batch_1.bin'));
    expect(error.message).toContain(
      `${path.join(dir, 'data_batch_1.bin')} has the wrong MD5: expected 5dd7e06a14cb22eb9f671a540d1b7c25, actual ${zerosMd5}`,
    );
    // The same files load with verification off.
    const dataset = await loadCifar10({ dir, verify: false, download: false });
    expect(dataset.train.count).toBe(50000);
  }, 30_000);

  it('rejects a class names file with the wrong number of names', async () => {
    const { dir } = writeCifar10(path.join(root, 'data'), 2);
    fs.writeFileSync(path.join(dir, 'batches.meta.txt'), 'a\nb\n');
    const error = await failure(loadCifar10({ dir, verify: false, download: false }));
    expect(error.message).toContain('batches.meta.txt lists 2 class names but CIFAR-10 has 10 classes');
  });

  it('uses custom class names with verify off and the published ones when the names file is absent', async () => {
    const { dir } = writeCifar10(path.join(root, 'data'), 2);
    fs.writeFileSync(path.join(dir, 'batches.meta.txt'), Array.from({ length: 10 }, (_, i) => `c${i}`).join('\n'));
    expect((await loadCifar10({ dir, verify: false, download: false })).classNames[9]).toBe('c9');
    fs.rmSync(path.join(dir, 'batches.meta.txt'));
    expect((await loadCifar10({ dir, verify: false, download: false })).classNames[0]).toBe('airplane');
  });

  it('checks its options', async () => {
    await expect(loadCifar10({ dir: 5 as unknown as string })).rejects.toThrow(
      'Expected a string for options.dir but received 5 of type number',
    );
    await expect(loadCifar10({ retries: -1 })).rejects.toThrow('Expected an integer >= 0 for options.retries');
    await expect(loadCifar10({ progress: 'loud' as 'auto' })).rejects.toThrow(
      "for options.progress but received 'loud'",
    );
    await expect(loadCifar100({ labelMode: 'middle' as 'fine' })).rejects.toThrow(
      "Expected 'fine' or 'coarse' for options.labelMode",
    );
  });
});

describe('loadCifar100 (synthetic files)', () => {
  function writeCifar100(parent: string) {
    const dir = path.join(parent, 'cifar-100-binary');
    fs.mkdirSync(dir, { recursive: true });
    const train = makeRecords(9, (r) => [r % 20, (r * 7) % 100], 5);
    const test = makeRecords(3, (r) => [19 - r, 99 - r], 6);
    fs.writeFileSync(path.join(dir, 'train.bin'), train);
    fs.writeFileSync(path.join(dir, 'test.bin'), test);
    return { dir, train, test };
  }

  it('reads coarse and fine labels; labels follow labelMode', async () => {
    const { dir, train, test } = writeCifar100(path.join(root, 'data'));
    const fine = await loadCifar100({ dir: path.dirname(dir), verify: false, download: false });
    expect(fine.name).toBe('cifar100');
    expect(fine.train.count).toBe(9);
    expect(Buffer.from(fine.train.images).equals(Buffer.from(naiveNhwc(train, 2)))).toBe(true);
    expect(Buffer.from(fine.test.images).equals(Buffer.from(naiveNhwc(test, 2)))).toBe(true);
    expect(Array.from(fine.train.labels)).toEqual([0, 7, 14, 21, 28, 35, 42, 49, 56]);
    expect(Array.from(fine.train.coarseLabels!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(fine.train.fineLabels).toBe(fine.train.labels);
    expect(fine.classNames).toHaveLength(100);
    expect(fine.classNames[0]).toBe('apple');
    const coarse = await loadCifar100({ dir, verify: false, download: false, labelMode: 'coarse' });
    expect(Array.from(coarse.test.labels)).toEqual([19, 18, 17]);
    expect(coarse.classNames).toHaveLength(20);
    expect(coarse.classNames[19]).toBe('vehicles_2');
  });

  it('rejects a fine label out of range and a record size that is not a multiple of 3074', async () => {
    const { dir, train } = writeCifar100(path.join(root, 'data'));
    train[3 * 3074 + 1] = 100;
    fs.writeFileSync(path.join(dir, 'train.bin'), train);
    await expect(loadCifar100({ dir, verify: false, download: false })).rejects.toThrow(
      `${path.join(dir, 'train.bin')}: fine label 100 of record 3 (byte 9223) is out of range: CIFAR-100 fine labels are 0..99`,
    );
    fs.writeFileSync(path.join(dir, 'train.bin'), train.subarray(0, 3073 * 2));
    await expect(loadCifar100({ dir, verify: false, download: false })).rejects.toThrow(
      '6146 bytes are 1 whole records of 3074 bytes and 3072 bytes over',
    );
  });
});
