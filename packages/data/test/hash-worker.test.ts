import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hashFilesInWorker } from '../src/hash-worker';
import { tempDir } from './helpers';

describe('hashFilesInWorker', () => {
  let root: string;
  beforeEach(() => (root = tempDir()));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('gives each file its MD5, in order, including files larger than one read chunk', async () => {
    const contents = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc((4 << 20) + 123, 7)];
    const files = contents.map((bytes, i) => {
      const file = path.join(root, `f${i}`);
      fs.writeFileSync(file, bytes);
      return file;
    });
    const digests = await hashFilesInWorker(files).digests;
    expect(digests).toEqual(contents.map((bytes) => createHash('md5').update(bytes).digest('hex')));
    expect(await hashFilesInWorker([]).digests).toEqual([]);
  });

  it('rejects naming a file it cannot read', async () => {
    await expect(hashFilesInWorker([path.join(root, 'missing.bin')]).digests).rejects.toThrow(
      `Cannot read ${path.join(root, 'missing.bin')} to check its MD5`,
    );
  });

  it('settles when cancelled: the load that cancels it never waits on a stopped worker', async () => {
    fs.writeFileSync(path.join(root, 'x'), Buffer.alloc(8 << 20));
    const hashes = hashFilesInWorker(Array(8).fill(path.join(root, 'x')));
    hashes.cancel();
    const outcome = await hashes.digests.then(
      (digests) => `done ${digests.length}`,
      (error: Error) => error.message,
    );
    expect(['done 8', 'The MD5 worker stopped before hashing every file']).toContain(outcome);
  });
});
