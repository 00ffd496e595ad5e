// pnpm bench (in @tta/model): the Keras-trained CIFAR-10 model of ../shared in both TensorFlow.js
// formats, predicting the same images on the same backend in one run. The graph model is what
// the converter makes of the Keras model (_FusedConv2D with relu, batch norms folded into
// Mul + AddV2, _FusedMatMul); issue 13's target: it predicts at least as fast as the layers model.
// TTA_BENCH_BACKEND (default native), TTA_BENCH_IMAGES (default 4096), TTA_BENCH_ROUNDS (default 9:
// a round takes a fifth of a second, and the two formats differ by less than a noisy round does).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
const require = createRequire(import.meta.url);
const { loadTfjsModel, selectBackend, tfjsClassifier } = require('../dist/index.js');
const tf = require('@tensorflow/tfjs-core');

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..', '..', 'shared', 'models', 'keras-cifar10');
if (!fs.existsSync(root)) {
  console.log(`formats: skipped (no Keras model at ${root})`);
  process.exit(0);
}
const backend = process.env.TTA_BENCH_BACKEND ?? 'native';
const count = Number(process.env.TTA_BENCH_IMAGES ?? 4096);
const rounds = Number(process.env.TTA_BENCH_ROUNDS ?? 9);
await selectBackend(backend);

// Preprocessed float32 pixels in [0, 1], as the classifier gets them from augment.
const images = Float32Array.from({ length: count * 32 * 32 * 3 }, (_, i) => ((i * 2654435761) >>> 24) / 255);

// 'graph as converted' skips loadTfjsModel's rewrite of Mul + AddV2 into one batch norm, to show what it moves.
const variants = {
  layers: ['layers', {}],
  graph: ['graph', {}],
  'graph as converted': ['graph', { optimizeGraph: false }],
};
const models = {};
for (const [name, [format, options]] of Object.entries(variants)) {
  const model = await loadTfjsModel(path.join(root, format), options);
  models[name] = { model, classifier: tfjsClassifier(model, { batchSize: 256, outputs: 'probabilities' }) };
  await models[name].classifier.predict(images.subarray(0, 256 * 3072), 256); // warm-up
}

// Interleaved rounds, best of each: the machine is shared, so both formats see the same noise.
const best = Object.fromEntries(Object.keys(variants).map((name) => [name, Infinity]));
const outputs = {};
for (let r = 0; r < rounds; r++) {
  for (const format of Object.keys(variants)) {
    const start = performance.now();
    outputs[format] = await models[format].classifier.predict(images, count);
    best[format] = Math.min(best[format], (performance.now() - start) / 1000);
  }
}
let maxDiff = 0;
for (let i = 0; i < outputs.layers.length; i++)
  maxDiff = Math.max(maxDiff, Math.abs(outputs.layers[i] - outputs.graph[i]));

console.log(`formats: Keras CIFAR-10 model, ${count} images, batch 256, backend ${backend}, best of ${rounds}`);
for (const name of Object.keys(variants))
  console.log(`  ${name.padEnd(18)} ${(count / best[name]).toFixed(0).padStart(7)} images/s`);
console.log(
  `  graph / layers: ${(best.layers / best.graph).toFixed(2)}x (target >= 1.00); graph / graph as converted: ${(best['graph as converted'] / best.graph).toFixed(2)}x`,
);
console.log(`  max |p_layers - p_graph| = ${maxDiff.toExponential(1)}`);
for (const { model } of Object.values(models)) model.dispose();
if (tf.memory().numTensors !== 0) console.log(`  (tensors left: ${tf.memory().numTensors})`);
