// pnpm bench (in @tta/native): the reference CIFAR-10 CNN (batch 128) trained and run
// for inference on the `native`, `wasm` and `cpu` TensorFlow.js backends in one run,
// as images/s, ratios to wasm and cpu, and achieved GFLOP/s against an sgemm ceiling
// measured in the same run. Targets (issue 5): training >= 1,500 images/s and >= 30x
// wasm, inference >= 6,000 images/s. `--quick` shortens every measurement.
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const { backendInfo, sgemm } = require('../dist/tfjs/index.js');

const quick = process.argv.includes('--quick');
const BATCH = 128;
const INFER_BATCH = 128;

function referenceCnn() {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 128, activation: 'relu' }));
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

/** Multiply-adds x2 of the convolutions and dense layers, per image: forward, and a training step. */
function flopsPerImage(model) {
  let forward = 0, backward = 0;
  model.layers.forEach((layer, index) => {
    const out = layer.outputShape;
    const name = layer.getClassName();
    let f = 0;
    if (name === 'Conv2D') {
      const kernel = layer.getWeights()[0].shape; // [kh, kw, cin, cout]
      f = 2 * out[1] * out[2] * kernel[0] * kernel[1] * kernel[2] * kernel[3];
    } else if (name === 'Dense') {
      const kernel = layer.getWeights()[0].shape;
      f = 2 * kernel[0] * kernel[1];
    }
    forward += f;
    // Filter gradient always; input gradient except for the first layer.
    backward += f * (index === 0 ? 1 : 2);
  });
  return { forward, training: forward + backward };
}

function batchData(n) {
  return tf.tidy(() => ({
    x: tf.randomUniform([n, 32, 32, 3]),
    y: tf.cast(tf.oneHot(tf.randomUniform([n], 0, 10, 'int32'), 10), 'float32'),
  }));
}

async function measureTraining(model, steps, batch = BATCH) {
  const { x, y } = batchData(batch);
  await model.trainOnBatch(x, y); // warm-up (and kernel/allocator warm-up)
  const start = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([x, y]);
  return (steps * batch) / seconds;
}

async function measureInference(model, batches, batch = INFER_BATCH) {
  const { x, y } = batchData(batch);
  tf.tidy(() => model.predict(x, { batchSize: batch })).dispose();
  const start = performance.now();
  for (let i = 0; i < batches; i++) {
    const p = model.predict(x, { batchSize: batch });
    await p.data();
    p.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([x, y]);
  return (batches * batch) / seconds;
}

function measureSgemm() {
  const n = 1024;
  const a = Float32Array.from({ length: n * n }, () => Math.random());
  const b = Float32Array.from({ length: n * n }, () => Math.random());
  const c = new Float32Array(n * n);
  sgemm(a, b, c, n, n, n);
  let best = Infinity;
  for (let i = 0; i < (quick ? 3 : 8); i++) {
    const t = performance.now();
    sgemm(a, b, c, n, n, n);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * n * n * n) / (best / 1000) / 1e9;
}

async function main() {
  const info = backendInfo();
  console.log(`native backend: GEMM ${info.gemm} (${info.blasConfig || 'no BLAS'}), ${info.threads} threads`);
  const ceiling = measureSgemm();
  console.log(`sgemm ceiling (1024^3, all threads): ${ceiling.toFixed(1)} GFLOP/s`);

  const results = {};
  for (const backend of (process.env.BENCH_BACKENDS ?? 'native,wasm,cpu').split(',')) {
    if (backend === 'wasm') {
      wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), path.sep));
    }
    if (!(await tf.setBackend(backend))) {
      console.log(`${backend}: backend unavailable`);
      continue;
    }
    const model = referenceCnn();
    const flops = flopsPerImage(model);
    const r = { flops };
    const trainable = tf.getKernel('Conv2DBackpropFilter', backend) != null;
    if (!trainable) {
      r.train = null;
    } else if (backend === 'cpu') {
      // One step of batch 128 takes minutes on cpu; a smaller step gives its rate.
      r.train = await measureTraining(model, 1, 16);
    } else {
      r.train = await measureTraining(model, quick ? 3 : backend === 'native' ? 20 : 3);
    }
    r.infer = backend === 'cpu' ? await measureInference(model, 1, 128)
      : await measureInference(model, quick ? 3 : backend === 'native' ? 20 : 4);
    model.dispose();
    results[backend] = r;
    const gflops = (ips, per) => (ips == null ? 'n/a' : `${((ips * per) / 1e9).toFixed(1)} GFLOP/s (${((100 * ips * per) / 1e9 / ceiling).toFixed(0)}% of sgemm)`);
    console.log(`${backend.padEnd(6)} train: ${r.train == null ? 'unavailable (no Conv2DBackpropFilter kernel)' : `${r.train.toFixed(1)} images/s, ${gflops(r.train, flops.training)}`}`);
    console.log(`${backend.padEnd(6)} infer: ${r.infer.toFixed(1)} images/s, ${gflops(r.infer, flops.forward)}`);
  }
  const native = results.native;
  console.log(`\nreference CNN: ${(native.flops.training / 1e6).toFixed(1)} MFLOP per training image, ${(native.flops.forward / 1e6).toFixed(1)} MFLOP per inference image`);
  for (const other of ['wasm', 'cpu']) {
    const r = results[other];
    if (r == null) continue;
    const train = r.train == null ? 'n/a (unavailable)' : `${(native.train / r.train).toFixed(1)}x`;
    console.log(`native vs ${other}: training ${train}, inference ${(native.infer / r.infer).toFixed(1)}x`);
  }
  console.log(`targets: training >= 1500 images/s (${native.train >= 1500 ? 'met' : 'NOT met'}), inference >= 6000 images/s (${native.infer >= 6000 ? 'met' : 'NOT met'})`);
  console.log(`three epochs of CIFAR-10 (150,000 images) at this rate: ${(150000 / native.train).toFixed(0)} s`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
