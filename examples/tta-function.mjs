// withTta around any function from a float32 NHWC batch to class probabilities (your own
// model in any framework). Run: node examples/tta-function.mjs
import { withTta } from '@tta/core';

const [h, w, c, classes] = [8, 8, 3, 2];
// A stand-in model: "is the image bright?" (the mean pixel, after x / 255, against 0.5).
function model(images, count) {
  const pixels = h * w * c;
  const out = new Float32Array(count * classes);
  for (let i = 0; i < count; i++) {
    let mean = 0;
    for (let p = 0; p < pixels; p++) mean += images[i * pixels + p] / pixels;
    const bright = 1 / (1 + Math.exp(-20 * (mean - 0.5)));
    out[i * classes] = bright;
    out[i * classes + 1] = 1 - bright;
  }
  return out;
}

const tta = withTta(model, 'flip-shift', { inputShape: [h, w, c], numClasses: classes });
// Two bright images and two dark ones.
const images = Uint8Array.from({ length: 4 * h * w * c }, (_, i) => (i < 2 * h * w * c ? 190 : 50) + (i % 13));
const { scores, labels, timing } = await tta.predict(images);
console.log(`policy ${tta.policy.name}: ${timing.forwardPasses} forward passes per image`);
console.log('merged probabilities:', Array.from(scores, (v) => v.toFixed(3)).join(' '));
console.log('labels:', Array.from(labels).join(' '));
