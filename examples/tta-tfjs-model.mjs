// A TensorFlow.js model from disk (layers or graph format) with test-time augmentation.
// Uses the Keras-trained CIFAR-10 model beside the repository when it is there; give another
// model folder or model.json as the first argument. Run: node examples/tta-tfjs-model.mjs [MODEL]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTfjsModel, selectBackend, withTta } from '@tta/model';

const here = path.dirname(fileURLToPath(import.meta.url));
const location = process.argv[2] ?? path.join(here, '..', '..', 'shared', 'models', 'keras-cifar10', 'graph');
if (!fs.existsSync(location)) {
  console.log(`no model at ${location}; give a TensorFlow.js model folder or model.json`);
  process.exit(0);
}
const { backend } = await selectBackend('auto');
const model = await loadTfjsModel(location);
const [h, w, c] = model.inputShape;
console.log(`${model.format} ${h}x${w}x${c} -> ${model.numClasses} classes, backend ${backend}`);

const tta = withTta(model, 'flip');
const count = 4;
const images = Uint8Array.from({ length: count * h * w * c }, (_, i) => (i * 131) % 256);
const { scores, labels } = await tta.predict(images);
for (let i = 0; i < count; i++) {
  console.log(`image ${i}: class ${labels[i]} (p = ${scores[i * model.numClasses + labels[i]].toFixed(3)})`);
}
model.dispose();
