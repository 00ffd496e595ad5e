// How long loading all 60,000 CIFAR-10 images takes, against baselines measured
// in the same run: reading the same bytes with fs.readFile (the floor), and
// reading them plus the obvious per-pixel JS planar -> NHWC loop (what the
// loader would cost without the WebAssembly reshuffle).
//
// Uses the official files when they are found (dir / TTA_DATA_DIR / cache, or
// ../shared/data beside the repository); otherwise writes a synthetic set of
// the same size to a temporary folder (then only verify: false is measured,
// since the official MD5s cannot match).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCifar10Dir, loadCifar10 } from '../dist/index.js';

const FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
  'test_batch.bin',
];
const RUNS = Number(process.env.TTA_BENCH_RUNS ?? 5);
const here = path.dirname(fileURLToPath(import.meta.url));

function repoRoot() {
  let dir = here;
  while (!fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return dir;
}

function findData() {
  const found = findCifar10Dir();
  if (found) return { dir: found, official: true };
  const root = repoRoot();
  const shared = root && path.join(root, '..', 'shared', 'data', 'cifar-10-batches-bin');
  if (shared && fs.existsSync(path.join(shared, 'test_batch.bin'))) return { dir: shared, official: true };
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tta-data-bench-')), 'cifar-10-batches-bin');
  fs.mkdirSync(dir);
  const record = Buffer.alloc(3073);
  for (const [f, name] of FILES.entries()) {
    const bytes = Buffer.alloc(10000 * 3073);
    for (let r = 0; r < 10000; r++) {
      for (let i = 1; i < 3073; i++) record[i] = (r * 31 + i * 7 + f) & 255;
      record[0] = r % 10;
      record.copy(bytes, r * 3073);
    }
    fs.writeFileSync(path.join(dir, name), bytes);
  }
  return { dir, official: false, temporary: path.dirname(dir) };
}

async function readAll(dir) {
  return Promise.all(FILES.map((name) => fs.promises.readFile(path.join(dir, name))));
}

async function naiveLoad(dir) {
  const buffers = await readAll(dir);
  const images = new Uint8Array(60000 * 3072);
  const labels = new Uint8Array(60000);
  let image = 0;
  for (const bytes of buffers) {
    for (let r = 0; r < bytes.length / 3073; r++, image++) {
      const base = r * 3073;
      labels[image] = bytes[base];
      for (let p = 0; p < 1024; p++) {
        for (let c = 0; c < 3; c++) images[image * 3072 + p * 3 + c] = bytes[base + 1 + c * 1024 + p];
      }
    }
  }
  return { images, labels };
}

async function time(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const data = findData();
const cases = {
  'fs.readFile (baseline)': () => readAll(data.dir),
  'naive JS per-pixel (baseline)': () => naiveLoad(data.dir),
  'loadCifar10 verify:false': () => loadCifar10({ dir: data.dir, verify: false, download: false }),
};
if (data.official) cases['loadCifar10 verify:true (MD5)'] = () => loadCifar10({ dir: data.dir, download: false });

const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
// Interleaved runs, so background load on the machine hits every case alike.
for (let run = 0; run < RUNS; run++) {
  for (const [name, fn] of Object.entries(cases)) times[name].push(await time(fn));
}

console.log(
  `@tta/data load bench: all 60,000 CIFAR-10 images from ${data.official ? 'the official files' : 'a synthetic set of the same size'} in ${data.dir}`,
);
console.log(`${RUNS} runs each, node ${process.version}, ${os.cpus().length} CPUs\n`);
const base = median(times['fs.readFile (baseline)']);
const naive = median(times['naive JS per-pixel (baseline)']);
for (const [name, values] of Object.entries(times)) {
  const m = median(values);
  console.log(
    `${name.padEnd(32)} median ${m.toFixed(0).padStart(5)} ms  min ${Math.min(...values)
      .toFixed(0)
      .padStart(5)} ms  x${(m / base).toFixed(2)} of readFile  ${(naive / m).toFixed(2)}x faster than naive`,
  );
}
if (data.temporary) fs.rmSync(data.temporary, { recursive: true, force: true });
