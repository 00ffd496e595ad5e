import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { DataError, findCifar10, findCifar10Dir, loadCifar10 } from '../src';
import { failure, makeArchive, naiveNhwc, tempDir, withEnv, writeCifar10 } from './helpers';

let root: string;
let restoreEnv: () => void;

beforeEach(() => {
  root = tempDir();
  restoreEnv = withEnv({ TTA_DATA_DIR: undefined, TTA_CACHE_DIR: path.join(root, 'cache'), TTA_OFFLINE: undefined });
});
afterEach(() => {
  restoreEnv();
  fs.rmSync(root, { recursive: true, force: true });
});

const datasets = () => path.join(root, 'cache', 'datasets');
const leftovers = () =>
  fs.existsSync(datasets()) ? fs.readdirSync(datasets()).filter((name) => name.includes('.tmp')) : [];

describe('loading from the official .tar.gz', () => {
  it('streams it into the cache, reads the files, and later loads read the extracted copy', async () => {
    const { file, files } = await makeArchive(path.join(root, 'downloads'));
    expect(findCifar10({ dir: path.join(root, 'downloads') }).found).toMatchObject({ kind: 'archive', path: file });
    const phases = new Set<string>();
    const dataset = await loadCifar10({
      dir: file,
      verify: false,
      download: false,
      onProgress: (p) => phases.add(p.phase),
    });
    const extracted = path.join(datasets(), 'cifar-10-batches-bin');
    expect(dataset.source).toBe(extracted);
    expect([...phases].sort()).toEqual(['extract', 'read']);
    expect(Buffer.from(dataset.test.images).equals(Buffer.from(naiveNhwc(files['test_batch.bin'] as Buffer, 1)))).toBe(
      true,
    );
    expect(fs.readdirSync(extracted).sort()).toEqual([
      'batches.meta.txt',
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
      'test_batch.bin',
    ]);
    expect(fs.existsSync(path.join(datasets(), 'readme.html'))).toBe(false);
    expect(leftovers()).toEqual([]);
    expect(findCifar10Dir({ dir: file })).toBe(extracted);

    // The archive found again is not unpacked again: the extracted copy is read.
    const again = await loadCifar10({
      dir: path.join(root, 'downloads'),
      verify: false,
      download: false,
      onProgress: (p) => expect(p.phase).toBe('read'),
    });
    expect(again.source).toBe(extracted);
    expect(Buffer.from(again.train.images).equals(Buffer.from(dataset.train.images))).toBe(true);
  });

  it('rejects a file that is not a gzip archive, naming it, and leaves nothing behind', async () => {
    const file = path.join(root, 'cifar-10-binary.tar.gz');
    fs.writeFileSync(file, Buffer.from('this is not gzip data at all, just text'.repeat(50)));
    const error = await failure(loadCifar10({ dir: file, verify: false, download: false }));
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe('TTA_DATA_CORRUPT_ARCHIVE');
    expect((error as DataError).message).toContain(`${file} is not a readable CIFAR-10 archive`);
    expect(leftovers()).toEqual([]);
    expect(fs.existsSync(path.join(datasets(), 'cifar-10-batches-bin'))).toBe(false);
  });

  it('rejects a truncated archive and leaves no half-extracted dataset', async () => {
    const { file } = await makeArchive(path.join(root, 'downloads'));
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const error = await failure(loadCifar10({ dir: file, verify: false, download: false }));
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe('TTA_DATA_CORRUPT_ARCHIVE');
    expect((error as DataError).message).toContain(file);
    expect(leftovers()).toEqual([]);
    expect(fs.existsSync(path.join(datasets(), 'cifar-10-batches-bin'))).toBe(false);
  });

  it('rejects an archive without the dataset folder', async () => {
    const source = tempDir('tta-data-src-');
    fs.writeFileSync(path.join(source, 'other.txt'), 'x');
    const file = path.join(root, 'cifar-10-binary.tar.gz');
    await tar.c({ gzip: true, file, cwd: source }, ['other.txt']);
    fs.rmSync(source, { recursive: true, force: true });
    await expect(loadCifar10({ dir: file, verify: false, download: false })).rejects.toThrow(
      `${file} holds no cifar-10-batches-bin/ folder`,
    );
    expect(leftovers()).toEqual([]);
  });

  it('does not move an extracted copy into the cache when its files are bad', async () => {
    const source = tempDir('tta-data-src-');
    const { dir } = writeCifar10(source, 3);
    fs.rmSync(path.join(dir, 'data_batch_5.bin'));
    const file = path.join(root, 'cifar-10-binary.tar.gz');
    await tar.c({ gzip: true, file, cwd: source }, ['cifar-10-batches-bin']);
    fs.rmSync(source, { recursive: true, force: true });
    await expect(loadCifar10({ dir: file, verify: false, download: false })).rejects.toThrow('Missing file');
    expect(fs.existsSync(path.join(datasets(), 'cifar-10-batches-bin'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });
});
