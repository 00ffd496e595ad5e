// Training and inference throughput (images/s) of the reference CNN on every
// backend present, in one run, as ratios against plain cpu measured here too.
// TTA_BENCH_STEPS sets the training batches per backend (default 3; plain cpu always trains one).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const model = require('../dist/index.js');

const batchSize = 32;
const steps = Number(process.env.TTA_BENCH_STEPS ?? 3);
const count = batchSize * steps;
const images = new Uint8Array(count * 32 * 32 * 3);
const labels = new Uint8Array(count);
for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
for (let i = 0; i < count; i++) labels[i] = i % 10;
const data = { images, labels, count, height: 32, width: 32, channels: 3 };

const rows = [];
for (const name of ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu']) {
  try {
    await model.selectBackend(name);
  } catch (error) {
    console.log(`${name.padEnd(15)} not available: ${error.reason ?? error.message}`);
    continue;
  }
  const cnn = model.createReferenceCnn({ seed: 1 });
  // Plain cpu trains under 1 img/s: one batch, no warm-up, keeps the run to minutes.
  const n = name === 'cpu' ? batchSize : count;
  // One warm-up batch: kernels compile / optimizer slots get created.
  if (name !== 'cpu') await model.train(cnn, { ...data, count: batchSize, images: images.subarray(0, batchSize * 3072), labels: labels.subarray(0, batchSize) }, { epochs: 1, batchSize, seed: 1 });
  const trained = await model.train(cnn, { ...data, count: n, images: images.subarray(0, n * 3072), labels: labels.subarray(0, n) }, { epochs: 1, batchSize, seed: 1 });
  await model.predict(cnn, images.subarray(0, batchSize * 3072), { batchSize });
  const t0 = performance.now();
  await model.predict(cnn, images, { batchSize: 128 });
  const inference = count / ((performance.now() - t0) / 1000);
  cnn.dispose();
  rows.push({ name, train: trained.imagesPerSecond, inference });
  console.log(`${name.padEnd(15)} train ${trained.imagesPerSecond.toFixed(1).padStart(8)} img/s   inference ${inference.toFixed(1).padStart(8)} img/s`);
}
const cpu = rows.find((r) => r.name === 'cpu');
if (cpu) {
  console.log(`\nratios against cpu (training: ${count} images per backend, ${batchSize} on cpu, batch ${batchSize}; inference: ${count} images, batch 128):`);
  for (const r of rows) console.log(`${r.name.padEnd(15)} train x${(r.train / cpu.train).toFixed(2)}   inference x${(r.inference / cpu.inference).toFixed(2)}`);
}
await model.selectBackend('cpu');
