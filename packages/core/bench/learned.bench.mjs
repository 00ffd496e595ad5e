// How long fitting a learned merge and a temperature takes on a CIFAR-10-sized validation set
// (5,000 images, 10 views, 10 classes: what `tta tune` fits), against the mean merge of the
// same predictions measured in the same run (softVote, the merge it is compared with).
import { softVote } from '@tta/native';
import { seededRandom } from '@tta/util';
import { fitLearnedWeights, fitTemperature, mergeLearned, outOfFoldLearnedMerge } from '../dist/index.js';

const V = 10;
const N = 5000;
const K = 10;
const RUNS = Number(process.env.TTA_BENCH_RUNS ?? 3);

function synthetic() {
  const random = seededRandom(1);
  const truth = Int32Array.from({ length: N }, () => Math.floor(random() * K));
  const predictions = new Float32Array(V * N * K);
  const logits = new Float64Array(K);
  for (let v = 0; v < V; v++) {
    for (let i = 0; i < N; i++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        logits[k] = (k === truth[i] ? 2 - v * 0.15 : 0) + 2.5 * (random() + random() - 1);
        sum += Math.exp(logits[k]);
      }
      for (let k = 0; k < K; k++) predictions[(v * N + i) * K + k] = Math.exp(logits[k]) / sum;
    }
  }
  return { predictions, truth };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(fn) {
  const seconds = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    fn();
    seconds.push((performance.now() - t) / 1000);
  }
  return median(seconds);
}

const { predictions, truth } = synthetic();
const shape = [V, N, K];
const mean = time(() => softVote(predictions, shape, { merge: 'mean' }));
const fitted = fitLearnedWeights(predictions, shape, truth);
const rows = [
  ['mean merge (softVote, baseline)', mean],
  ['learned merge with fitted weights', time(() => mergeLearned(predictions, shape, fitted))],
  ['fit learned weights per view', time(() => fitLearnedWeights(predictions, shape, truth))],
  [
    'fit learned weights per view x class',
    time(() => fitLearnedWeights(predictions, shape, truth, { shape: 'view-class' })),
  ],
  ['out-of-fold learned merge (5 folds, per view)', time(() => outOfFoldLearnedMerge(predictions, shape, truth))],
  ['fit temperature of the mean merge', time(() => fitTemperature(softVote(predictions, shape).scores, truth, K))],
];
console.log(`learned merge and temperature: ${V} views x ${N} images x ${K} classes, median of ${RUNS} runs`);
for (const [name, seconds] of rows) {
  console.log(
    `  ${name.padEnd(48)} ${(seconds * 1000).toFixed(1).padStart(9)} ms  ${(seconds / mean).toFixed(1).padStart(7)}x the mean merge`,
  );
}
