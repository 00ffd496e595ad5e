// pnpm bench (in @tta/model): the reference CIFAR-10 CNN (createReferenceCnn) trained at
// batch 128 and run for inference on every backend present, in one run: images/s, ratios
// and achieved GFLOP/s against an sgemm ceiling measured in the same run. Training goes
// through train() (uint8 images in, the path `tta train` takes). Targets (issue 5): native
// training >= 1,500 images/s and >= 30x wasm, inference >= 6,000 images/s.
// tensorflow (and tensorflow-gpu) run where scripts/setup-tensorflow.sh set them up; the ratio
// line compares native with each of them.
// TTA_BENCH_STEPS: training batches per backend (default 20 on native, 10 on tensorflow, 3
// elsewhere; plain cpu always trains one batch of 16, since a batch of 128 takes minutes there).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const model = require('../dist/index.js');

const BATCH = 128;
const steps = (name) =>
  Number(process.env.TTA_BENCH_STEPS ?? (name === 'native' ? 20 : name.startsWith('tensorflow') ? 10 : 3));

function syntheticImages(count) {
  const images = new Uint8Array(count * 32 * 32 * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  for (let i = 0; i < count; i++) labels[i] = i % 10;
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

function subset(data, count) {
  return { ...data, count, images: data.images.subarray(0, count * 3072), labels: data.labels.subarray(0, count) };
}

/** 2 x multiply-adds of the convolutions and dense layers per image: forward, and a training step. */
function flopsPerImage(cnn) {
  let forward = 0,
    backward = 0;
  cnn.layers.forEach((layer, index) => {
    const out = layer.outputShape;
    const name = layer.getClassName();
    let f = 0;
    if (name === 'Conv2D') {
      const [kh, kw, cin, cout] = layer.getWeights()[0].shape;
      f = 2 * out[1] * out[2] * kh * kw * cin * cout;
    } else if (name === 'Dense') {
      const [inputs, units] = layer.getWeights()[0].shape;
      f = 2 * inputs * units;
    }
    forward += f;
    // The filter gradient always; the input gradient except for the first layer.
    backward += f * (index === 0 ? 1 : 2);
  });
  return { forward, training: forward + backward };
}

function sgemmCeiling() {
  let native;
  try {
    native = require('@tta/tfjs-backend-native');
  } catch {
    return null;
  }
  const n = 1024;
  const a = Float32Array.from({ length: n * n }, () => Math.random());
  const b = Float32Array.from({ length: n * n }, () => Math.random());
  const c = new Float32Array(n * n);
  native.sgemm(a, b, c, n, n, n);
  let best = Infinity;
  for (let i = 0; i < 8; i++) {
    const t = performance.now();
    native.sgemm(a, b, c, n, n, n);
    best = Math.min(best, performance.now() - t);
  }
  const info = native.backendInfo();
  console.log(`native backend: GEMM ${info.gemm} (${info.blasConfig || 'no BLAS'}), ${info.threads} threads`);
  const gflops = (2 * n ** 3) / (best / 1000) / 1e9;
  console.log(`sgemm ceiling (1024^3, all threads): ${gflops.toFixed(1)} GFLOP/s\n`);
  return gflops;
}

const ceiling = sgemmCeiling();
const data = syntheticImages(BATCH * Math.max(steps('native'), steps('wasm')) + BATCH);
const rows = {};
for (const name of ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu']) {
  try {
    await model.selectBackend(name);
  } catch (error) {
    console.log(`${name.padEnd(15)} not available: ${error.reason ?? error.message}`);
    continue;
  }
  const cnn = model.createReferenceCnn({ seed: 1 });
  const batch = name === 'cpu' ? 16 : BATCH;
  const count = name === 'cpu' ? 16 : BATCH * steps(name);
  // One warm-up batch: kernels, optimizer slots and buffers get created.
  if (name !== 'cpu') await model.train(cnn, subset(data, batch), { epochs: 1, batchSize: batch, seed: 1 });
  const trained = await model.train(cnn, subset(data, count), { epochs: 1, batchSize: batch, seed: 1 });
  const inferCount = name === 'cpu' ? BATCH : BATCH * steps(name);
  await model.predict(cnn, data.images.subarray(0, BATCH * 3072), { batchSize: BATCH });
  const t0 = performance.now();
  await model.predict(cnn, data.images.subarray(0, inferCount * 3072), { batchSize: BATCH });
  const inference = inferCount / ((performance.now() - t0) / 1000);
  const flops = flopsPerImage(cnn);
  cnn.dispose();
  rows[name] = { train: trained.imagesPerSecond, inference, flops, batch };
  const rate = (ips, per) =>
    `${ips.toFixed(1).padStart(8)} img/s` +
    (ceiling == null
      ? ''
      : `, ${((ips * per) / 1e9).toFixed(1).padStart(5)} GFLOP/s (${((100 * ips * per) / 1e9 / ceiling).toFixed(0)}% of sgemm)`);
  console.log(`${name.padEnd(15)} train ${rate(trained.imagesPerSecond, flops.training)} [batch ${batch}]`);
  console.log(`${''.padEnd(15)} infer ${rate(inference, flops.forward)}`);
}

const native = rows.native;
if (native != null) {
  console.log(
    `\nreference CNN: ${(native.flops.training / 1e6).toFixed(1)} MFLOP per training image, ${(native.flops.forward / 1e6).toFixed(1)} MFLOP per inference image`,
  );
  for (const other of ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']) {
    const r = rows[other];
    if (r == null) continue;
    console.log(
      `native vs ${other}: training ${(native.train / r.train).toFixed(1)}x, inference ${(native.inference / r.inference).toFixed(1)}x`,
    );
  }
  const vsWasm = rows.wasm == null ? null : native.train / rows.wasm.train;
  const met = (ok) => (ok ? 'met' : 'NOT met');
  console.log(
    `targets: training >= 1500 img/s (${met(native.train >= 1500)}), >= 30x wasm (${vsWasm == null ? 'wasm not measured' : met(vsWasm >= 30)}), ` +
      `inference >= 6000 img/s (${met(native.inference >= 6000)})`,
  );
  console.log(`three epochs of CIFAR-10 (150,000 images) at this rate: ${(150000 / native.train).toFixed(0)} s`);
}
await model.selectBackend('cpu');
