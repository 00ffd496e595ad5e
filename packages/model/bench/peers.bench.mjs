// pnpm bench:peers (also part of pnpm bench, in @tta/model): the reference CNN (conv32-BN-pool,
// conv64-BN-pool, dense128-BN, softmax; he_uniform; Adam; batch 128) trained and run for
// inference on real CIFAR-10 in ONE run by the frameworks a user would pick instead of tta's
// backends: Keras on TensorFlow CPU and PyTorch CPU (bench/peers/*.py, same images, same batch,
// same number of steps), next to `native` and, where scripts/setup-tensorflow.sh set it up,
// `tensorflow` (tfjs-node). Prints images/s and each one's ratio to the faster peer.
// Targets (issue 13): native training >= 1.5x the faster of Keras and PyTorch, inference >= 2x Keras.
//
// These machines are noisy (a neighbour can halve a framework's figure for a few seconds), so
// each framework times TTA_BENCH_ROUNDS rounds (default 3) of the same steps in its own process
// after the same one-batch warm-up, and its best round is its figure; every round is printed.
// Python is $TTA_PYTHON or python3; a framework whose package does not import is skipped with
// one line saying so (no test depends on them). The data is ../shared/data/cifar-10-batches-bin
// beside the repository, or TTA_CIFAR10_DIR. TTA_BENCH_STEPS: timed batches a round (default 20).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const model = require('../dist/index.js');
const { loadCifar10 } = require('@tta/data');

const here = path.dirname(fileURLToPath(import.meta.url));
const BATCH = 128;
const STEPS = Number(process.env.TTA_BENCH_STEPS ?? 20);
const ROUNDS = Number(process.env.TTA_BENCH_ROUNDS ?? 3);
if (!Number.isSafeInteger(STEPS) || STEPS < 1 || !Number.isSafeInteger(ROUNDS) || ROUNDS < 1) {
  console.error(`TTA_BENCH_STEPS and TTA_BENCH_ROUNDS must be integers >= 1, got ${STEPS} and ${ROUNDS}`);
  process.exit(1);
}
const count = BATCH * (STEPS + 1);
const dataDir =
  process.env.TTA_CIFAR10_DIR ?? path.resolve(here, '..', '..', '..', '..', 'shared', 'data', 'cifar-10-batches-bin');

if (!existsSync(path.join(dataDir, 'data_batch_1.bin'))) {
  console.log(`peers benchmark skipped: no CIFAR-10 binary files in ${dataDir} (set TTA_CIFAR10_DIR)`);
  process.exit(0);
}

console.log(
  `peers: the reference CNN on real CIFAR-10 (the first ${count} training images of ${dataDir}), ` +
    `batch ${BATCH}, 1 warm-up + ${ROUNDS} rounds of ${STEPS} timed batches, then inference on the same ` +
    `images (1 warm-up batch + ${ROUNDS} rounds); each framework's best round`,
);

const rows = [];

// tta's own backends, through train() and predict() as `tta train` and `tta eval` run them.
const dataset = await loadCifar10({ dir: dataDir, download: false, verify: false });
const split = {
  ...dataset.train,
  count,
  images: dataset.train.images.subarray(0, count * 3072),
  labels: dataset.train.labels.subarray(0, count),
};
const part = (from, to) => ({
  ...split,
  count: to - from,
  images: split.images.subarray(from * 3072, to * 3072),
  labels: split.labels.subarray(from, to),
});
// 'native, built-in conv' is native with its convolutions on its own kernels instead of oneDNN
// (only when the addon was built with oneDNN), 'native, unfused' without its fused inference
// convolution blocks: what each moves, in the same run.
const { backendInfo, useFusion, useOnednn } = require('@tta/tfjs-backend-native');
const variants = [
  ['native', 'native', true, true],
  ['native, unfused', 'native', true, false],
  ...(backendInfo().onednn ? [['native, built-in conv', 'native', false, true]] : []),
  ['tensorflow', 'tensorflow', true, true],
];
for (const [name, backend, onednn, fusion] of variants) {
  try {
    await model.selectBackend(backend);
  } catch (error) {
    console.log(`${name}: not available (${error.reason ?? error.message})`);
    continue;
  }
  useOnednn(onednn && backendInfo().onednn !== '');
  useFusion(fusion);
  const cnn = model.createReferenceCnn({ seed: 1 });
  await model.train(cnn, part(0, BATCH), { epochs: 1, batchSize: BATCH, seed: 1 });
  const trainRounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const trained = await model.train(cnn, part(BATCH, count), { epochs: 1, batchSize: BATCH, seed: 1 });
    trainRounds.push(trained.imagesPerSecond);
  }
  await model.predict(cnn, part(0, BATCH).images, { batchSize: BATCH });
  const predictRounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    await model.predict(cnn, part(BATCH, count).images, { batchSize: BATCH });
    predictRounds.push((count - BATCH) / ((performance.now() - started) / 1000));
  }
  cnn.dispose();
  const convolutions =
    backend !== 'native' ? '' : backendInfo().onednnEnabled ? `, oneDNN ${backendInfo().onednn}` : ', built-in conv';
  rows.push({
    name,
    version: `tfjs backend ${backend}${convolutions}`,
    train: Math.max(...trainRounds),
    predict: Math.max(...predictRounds),
    trainRounds,
    predictRounds,
    peer: false,
  });
}
useOnednn(backendInfo().onednn !== '');
useFusion(true);

// The peers, each in its own Python process.
const python = process.env.TTA_PYTHON ?? 'python3';
for (const [name, script, modules] of [
  ['keras', 'keras_cnn.py', 'numpy, tensorflow, keras'],
  ['pytorch', 'torch_cnn.py', 'numpy, torch'],
]) {
  const probe = spawnSync(python, ['-c', `import ${modules}`], { encoding: 'utf8' });
  if (probe.error != null || probe.status !== 0) {
    const why = probe.error?.message ?? probe.stderr.trim().split('\n').pop();
    console.log(`${name}: skipped (${python} cannot import ${modules}: ${why}; set TTA_PYTHON to a Python that can)`);
    continue;
  }
  const run = spawnSync(
    python,
    [
      path.join(here, 'peers', script),
      ...['--data', dataDir, '--batch', String(BATCH), '--steps', String(STEPS), '--rounds', String(ROUNDS)],
    ],
    { encoding: 'utf8', env: { TF_CPP_MIN_LOG_LEVEL: '2', PYTHONDONTWRITEBYTECODE: '1', ...process.env } },
  );
  const line = run.stdout?.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) {
    console.log(`${name}: failed (exit ${run.status}): ${(run.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    continue;
  }
  const result = JSON.parse(line);
  rows.push({
    name,
    version: `${result.version}, ${result.threads} threads`,
    train: result.train,
    predict: result.predict,
    trainRounds: result.trainRounds,
    predictRounds: result.predictRounds,
    peer: true,
  });
}

const peers = rows.filter((r) => r.peer);
const fasterTrain = peers.reduce((best, r) => (best == null || r.train > best.train ? r : best), null);
const fasterPredict = peers.reduce((best, r) => (best == null || r.predict > best.predict ? r : best), null);
const keras = rows.find((r) => r.name === 'keras');
const ratio = (value, base) => (base == null ? '' : `${(value / base).toFixed(2)}x`);
console.log(
  `\n${'framework'.padEnd(24)}${'train img/s'.padStart(12)}${'predict img/s'.padStart(15)}` +
    `${'train vs ' + (fasterTrain?.name ?? 'peer')}`.padStart(20) +
    `${'predict vs ' + (fasterPredict?.name ?? 'peer')}`.padStart(22) +
    '  what',
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(24)}${r.train.toFixed(0).padStart(12)}${r.predict.toFixed(0).padStart(15)}` +
      `${ratio(r.train, fasterTrain?.train).padStart(20)}${ratio(r.predict, fasterPredict?.predict).padStart(22)}  ${r.version}`,
  );
}
const rounds = (values) => (values ?? []).map((v) => v.toFixed(0)).join(' ');
console.log('\nevery round (img/s), train | predict:');
for (const r of rows) console.log(`  ${r.name.padEnd(22)}${rounds(r.trainRounds)} | ${rounds(r.predictRounds)}`);
const native = rows.find((r) => r.name === 'native');
if (native != null && fasterTrain != null) {
  const trainRatio = native.train / fasterTrain.train;
  console.log(
    `targets: native training ${trainRatio.toFixed(2)}x the faster peer (${fasterTrain.name}; goal >= 1.5x: ${trainRatio >= 1.5 ? 'met' : 'not met'})` +
      (keras == null
        ? ''
        : `, inference ${(native.predict / keras.predict).toFixed(2)}x Keras (goal >= 2x: ${native.predict / keras.predict >= 2 ? 'met' : 'not met'})`),
  );
} else {
  console.log('targets: not checked (needs native and at least one peer in the same run)');
}
