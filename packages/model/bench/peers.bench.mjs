// pnpm bench:peers (also part of pnpm bench, in @tta/model): the reference CNN (conv32-BN-pool,
// conv64-BN-pool, dense128-BN, softmax; he_uniform; Adam; batch 128) trained and run for
// inference on real CIFAR-10 in ONE run by the frameworks a user would pick instead of tta's
// backends: Keras on TensorFlow CPU and PyTorch CPU (bench/peers/*.py, same images, same batch,
// same number of steps), next to `native` and, where scripts/setup-tensorflow.sh set it up,
// `tensorflow` (tfjs-node). Prints images/s and each one's ratio to the faster peer.
// Targets (issue 13): native training >= 1.5x the faster of Keras and PyTorch, inference >= 2x Keras.
//
// These machines are noisy (a neighbour can halve a framework's figure for half a minute), so
// the run makes TTA_BENCH_ROUNDS passes (default 3); each pass times one round of every framework
// in turn (the same steps, after the same one-batch warm-up; each peer in a fresh process), so a
// slow minute falls on one round of each rather than on every round of one. A framework's best
// round is its figure; every round is printed.
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
    `images (1 warm-up batch + ${ROUNDS} rounds), the frameworks taking turns; each framework's best round`,
);

// Every framework measured: its settings, how to time one round, and its rounds so far.
const entrants = [];

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
// convolution blocks, 'native, no Winograd' with them but on the direct convolution: what each
// moves, in the same run.
const { backendInfo, useFusion, useOnednn, useWinograd } = require('@tta/tfjs-backend-native');
const variants = [
  ['native', 'native', true, true, true],
  ...(backendInfo().winograd ? [['native, no Winograd', 'native', true, true, false]] : []),
  ['native, unfused', 'native', true, false, false],
  ...(backendInfo().onednn ? [['native, built-in conv', 'native', false, true, true]] : []),
  ['tensorflow', 'tensorflow', true, true, true],
];
for (const [name, backend, onednn, fusion, winograd] of variants) {
  try {
    await model.selectBackend(backend);
  } catch (error) {
    console.log(`${name}: not available (${error.reason ?? error.message})`);
    continue;
  }
  const convolutions =
    backend !== 'native' ? '' : onednn && backendInfo().onednn ? `, oneDNN ${backendInfo().onednn}` : ', built-in conv';
  let cnn;
  entrants.push({
    name,
    version: `tfjs backend ${backend}${convolutions}`,
    peer: false,
    trainRounds: [],
    predictRounds: [],
    async round() {
      await model.selectBackend(backend);
      useOnednn(onednn && backendInfo().onednn !== '');
      useFusion(fusion);
      useWinograd(winograd);
      cnn ??= model.createReferenceCnn({ seed: 1 });
      // An untimed round first, as each peer's round follows seconds of imports, data loading
      // and a warm-up batch in its fresh process: measured here, the first batch after another
      // framework's run takes 300 ms instead of 30, and the next second runs 10-30% slow.
      await model.train(cnn, part(BATCH, count), { epochs: 1, batchSize: BATCH, seed: 1 });
      await model.predict(cnn, part(BATCH, count).images, { batchSize: BATCH });
      const trained = await model.train(cnn, part(BATCH, count), { epochs: 1, batchSize: BATCH, seed: 1 });
      const started = performance.now();
      await model.predict(cnn, part(BATCH, count).images, { batchSize: BATCH });
      return { train: trained.imagesPerSecond, predict: (count - BATCH) / ((performance.now() - started) / 1000) };
    },
    dispose: () => cnn?.dispose(),
  });
}

// The peers, each round in a fresh Python process.
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
  const entrant = {
    name,
    version: '',
    peer: true,
    trainRounds: [],
    predictRounds: [],
    round() {
      const run = spawnSync(
        python,
        [
          path.join(here, 'peers', script),
          ...['--data', dataDir, '--batch', String(BATCH), '--steps', String(STEPS), '--rounds', '1'],
        ],
        { encoding: 'utf8', env: { TF_CPP_MIN_LOG_LEVEL: '2', PYTHONDONTWRITEBYTECODE: '1', ...process.env } },
      );
      const line = run.stdout?.trim().split('\n').pop() ?? '';
      if (run.status !== 0 || !line.startsWith('{')) {
        const stderr = (run.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
        throw new Error(`failed (exit ${run.status}): ${stderr}`);
      }
      const result = JSON.parse(line);
      entrant.version = `${result.version}, ${result.threads} threads`;
      return { train: result.train, predict: result.predict };
    },
  };
  entrants.push(entrant);
}

for (let pass = 0; pass < ROUNDS; pass++) {
  for (const entrant of entrants) {
    if (entrant.failure !== undefined) continue;
    try {
      const { train, predict } = await entrant.round();
      entrant.trainRounds.push(train);
      entrant.predictRounds.push(predict);
    } catch (error) {
      entrant.failure = error.message;
      console.log(`${entrant.name}: ${error.message}`);
    }
  }
}
for (const entrant of entrants) entrant.dispose?.();
useOnednn(backendInfo().onednn !== '');
useFusion(true);
useWinograd(true);

const rows = entrants
  .filter((e) => e.failure === undefined && e.trainRounds.length > 0)
  .map((e) => ({ ...e, train: Math.max(...e.trainRounds), predict: Math.max(...e.predictRounds) }));

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
