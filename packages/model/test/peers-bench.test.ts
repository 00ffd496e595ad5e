// pnpm bench:peers must run where Keras and PyTorch are missing: each peer is skipped with one
// line saying why, and native is still measured and printed. (The peers themselves are never
// needed by a test; this one points TTA_PYTHON at a Python that does not exist.)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { cifarDir } from './helpers';

const bench = path.join(__dirname, '..', 'bench', 'peers.bench.mjs');
const withCifar = cifarDir() === undefined ? test.skip : test;

withCifar(
  'skips peers that do not import, in one line each, and still measures native',
  () => {
    const run = spawnSync(process.execPath, [bench], {
      encoding: 'utf8',
      env: { ...process.env, TTA_PYTHON: '/nonexistent/python3', TTA_BENCH_STEPS: '1', TTA_CIFAR10_DIR: cifarDir() },
    });
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('keras: skipped'))).toEqual([
      expect.stringMatching(
        /^keras: skipped \(\/nonexistent\/python3 cannot import numpy, tensorflow, keras: .*TTA_PYTHON/,
      ),
    ]);
    expect(lines.filter((l) => l.startsWith('pytorch: skipped'))).toHaveLength(1);
    expect(run.stdout).toMatch(/^native\s+\d+\s+\d+\s+tfjs backend native(, oneDNN [\d.]+|, built-in conv)?$/m);
    expect(run.stdout).toMatch(/targets: not checked \(needs native and at least one peer in the same run\)/);
  },
  120_000,
);

test('says in one line that it skips when the CIFAR-10 files are missing', () => {
  const run = spawnSync(process.execPath, [bench], {
    encoding: 'utf8',
    env: { ...process.env, TTA_CIFAR10_DIR: path.join(__dirname, 'no-such-folder') },
  });
  expect(run.status).toBe(0);
  expect(run.stdout.trim()).toBe(
    `peers benchmark skipped: no CIFAR-10 binary files in ${path.join(__dirname, 'no-such-folder')} (set TTA_CIFAR10_DIR)`,
  );
});
