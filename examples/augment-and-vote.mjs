// The native core on its own: augment a batch into views, run any model on them, merge the
// views with a soft vote. Run: node examples/augment-and-vote.mjs
import { augment, preprocessingOptions, softVote } from '@tta/native';

// Two 4x4 RGB images as raw bytes (NHWC).
const images = Uint8Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => (i * 37) % 256);
const views = [{}, { flip: true }, { dx: 1 }, { vflip: true, dy: -1 }];

// [4 views, 2 images, 4, 4, 3] float32, with ImageNet normalisation in the same pass.
const batch = augment(images, [2, 4, 4, 3], views, { fill: 'reflect', ...preprocessingOptions('imagenet', 3) });

// A stand-in model: class scores from the mean of each view's pixels.
const classes = 3;
const probabilities = new Float32Array(views.length * 2 * classes);
for (let i = 0; i < views.length * 2; i++) {
  let mean = 0;
  for (let p = 0; p < 48; p++) mean += batch[i * 48 + p] / 48;
  const logits = [mean, -mean, 0.5];
  const sum = logits.reduce((a, l) => a + Math.exp(l), 0);
  logits.forEach((l, k) => (probabilities[i * classes + k] = Math.exp(l) / sum));
}
const { scores, labels } = softVote(probabilities, [views.length, 2, classes], { merge: 'mean' });
console.log('merged probabilities:', Array.from(scores, (v) => v.toFixed(3)).join(' '));
console.log('labels:', Array.from(labels).join(' '));
