// pnpm bench (in @tta/cli): the folder pipeline of `tta eval --images` on 224x224 JPEGs —
// decode + resize (sharp), augment (with the model's preprocessing) and predict — against
// sharp's decode-and-resize alone (the ceiling: the pipeline cannot read images faster), in
// the same run. Also the share of a TTA evaluation's wall time spent outside the model, and
// the peak RSS for growing numbers of files (streaming: it must not grow with them).
//
//   node bench/folder.bench.mjs [--files N] [--quick]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { imageFileSource, listImageFiles, readImages } from '@tta/data';
import { createModel, saveModel, loadTfjsModel, selectBackend, tfjsClassifier } from '@tta/model';
import { evaluatePolicies, makePolicy } from '@tta/core';

const quick = process.argv.includes('--quick');
const filesArg = process.argv.indexOf('--files');
const FILES = filesArg > 0 ? Number(process.argv[filesArg + 1]) : quick ? 64 : 192;
const SIZE = 224;

async function makeJpegs(dir, count) {
  fs.mkdirSync(dir, { recursive: true });
  const jobs = [];
  for (let i = 0; i < count; i++) {
    // Photographs are smooth with detail: gradients plus noise, 300x260 so every file is resized.
    const w = 300;
    const h = 260;
    const raw = Buffer.alloc(w * h * 3);
    let s = i + 1;
    for (let p = 0; p < w * h; p++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const x = p % w;
      const y = Math.floor(p / w);
      raw[p * 3] = (x + i * 7 + (s & 31)) & 255;
      raw[p * 3 + 1] = (y * 2 + ((s >>> 8) & 31)) & 255;
      raw[p * 3 + 2] = ((x + y) / 2 + i) & 255;
    }
    const cls = `c${i % 4}`;
    fs.mkdirSync(path.join(dir, cls), { recursive: true });
    jobs.push(
      sharp(raw, { raw: { width: w, height: h, channels: 3 } })
        .jpeg({ quality: 90 })
        .toFile(path.join(dir, cls, `${i}.jpg`)),
    );
    if (jobs.length >= 32) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

function rate(count, ms) {
  return (count / ms) * 1000;
}

async function decodeOnly(files) {
  const start = performance.now();
  let n = 0;
  for await (const chunk of readImages(files, { size: [SIZE, SIZE], chunkSize: 64 })) n += chunk.count;
  return rate(n, performance.now() - start);
}

async function pipeline(classifier, files, labels, policies) {
  const source = imageFileSource(files, { size: [SIZE, SIZE] });
  const start = performance.now();
  const evaluation = await evaluatePolicies(classifier, source, labels, policies, {});
  const wallMs = performance.now() - start;
  const inferenceMs = [...evaluation.views.values()].reduce((a, v) => a + v.inferenceSeconds * 1000, 0);
  return {
    imagesPerSecond: rate(files.length, wallMs),
    nonModelShare: 1 - inferenceMs / wallMs,
    views: evaluation.views.size,
  };
}

/** Peak RSS of a child process that evaluates `count` files (streaming keeps it flat). */
function peakRss(dir, count, modelDir) {
  const script = `
    import { imageFileSource, listImageFiles } from '@tta/data';
    import { loadTfjsModel, selectBackend, tfjsClassifier } from '@tta/model';
    import { evaluatePolicies, makePolicy } from '@tta/core';
    await selectBackend('auto');
    const files = listImageFiles([${JSON.stringify(dir)}]).slice(0, ${count});
    const model = await loadTfjsModel(${JSON.stringify(modelDir)});
    const source = imageFileSource(files, { size: [${SIZE}, ${SIZE}] });
    await evaluatePolicies(tfjsClassifier(model), source, new Int32Array(files.length), [makePolicy('flip')], { chunkSize: 32 });
    console.log(process.resourceUsage().maxRSS);
  `;
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), `.rss-${process.pid}.mjs`);
  fs.writeFileSync(file, script);
  try {
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
    const kb = Number(r.stdout.trim().split('\n').pop());
    return Number.isFinite(kb) ? kb / 1024 : NaN;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tta-folder-bench-'));
try {
  const dir = path.join(root, 'images');
  await makeJpegs(dir, FILES);
  const files = listImageFiles([dir]);
  const labels = Int32Array.from(files, (f) => Number(path.basename(path.dirname(f)).slice(1)));
  const { backend } = await selectBackend('auto');
  // The reference CNN at 224x224 (about 0.6 GFLOP per image): a small real model.
  const modelDir = path.join(root, 'model');
  const net = createModel('reference-cnn', { inputShape: [SIZE, SIZE, 3], numClasses: 4, seed: 1 });
  await saveModel(net, modelDir, { architecture: 'reference-cnn' });
  net.dispose();
  const model = await loadTfjsModel(modelDir);
  const classifier = tfjsClassifier(model, { batchSize: 32 });

  console.log(
    `folder pipeline: ${FILES} JPEGs 300x260 -> ${SIZE}x${SIZE}, reference CNN at ${SIZE}x${SIZE}, backend ${backend}, ${os.availableParallelism()} cores`,
  );
  await decodeOnly(files.slice(0, 32)); // warm-up
  const ceiling = await decodeOnly(files);
  const none = await pipeline(classifier, files, labels, []);
  const flip = await pipeline(classifier, files, labels, [makePolicy('flip')]);
  const rows = [
    ['sharp decode + resize alone (ceiling)', ceiling, 1, NaN],
    ['tta eval, no TTA (1 view)', none.imagesPerSecond, none.imagesPerSecond / ceiling, none.nonModelShare],
    [`tta eval, flip (${flip.views} views)`, flip.imagesPerSecond, flip.imagesPerSecond / ceiling, flip.nonModelShare],
  ];
  console.log(
    `${'method'.padEnd(40)} ${'images/s'.padStart(9)} ${'vs ceiling'.padStart(11)} ${'non-model'.padStart(10)}`,
  );
  for (const [name, ips, ratio, share] of rows) {
    console.log(
      `${name.padEnd(40)} ${ips.toFixed(1).padStart(9)} ${`${(ratio * 100).toFixed(0)}%`.padStart(11)} ${Number.isFinite(share) ? `${(share * 100).toFixed(1)}%`.padStart(10) : '—'.padStart(10)}`,
    );
  }
  console.log(
    `target: non-model share of a TTA eval at ${SIZE}x${SIZE} under 20% (${flip.nonModelShare < 0.2 ? 'met' : 'not met'})`,
  );
  model.dispose();

  {
    const counts = [Math.round(FILES / 4), FILES];
    const rss = counts.map((n) => [n, peakRss(dir, n, modelDir)]);
    console.log(
      `peak RSS of an eval by number of files: ${rss.map(([n, mb]) => `${n} files ${mb.toFixed(0)} MB`).join(', ')}`,
    );
    const [, first] = rss[0];
    const [, last] = rss[rss.length - 1];
    console.log(
      `RSS growth from ${counts[0]} to ${counts[counts.length - 1]} files: ${(((last - first) / first) * 100).toFixed(1)}% (streaming: it should stay flat)`,
    );
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
