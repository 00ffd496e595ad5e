// Evaluate TTA policies on a folder of labelled images (one sub-folder per class), streamed.
// Without arguments, writes a small synthetic folder and a tiny model first.
// Run: node examples/evaluate-folder.mjs [MODEL IMAGES]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { imageFileSource, scanImageFolder } from '@tta/data';
import { createModel, loadTfjsModel, saveModel, selectBackend, tfjsClassifier } from '@tta/model';
import { evaluatePolicies, makePolicy } from '@tta/core';

await selectBackend('auto');
let [modelPath, imagesPath] = process.argv.slice(2);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tta-example-'));
try {
  if (!modelPath || !imagesPath) {
    modelPath = path.join(scratch, 'model');
    const net = createModel('small-cnn', { inputShape: [32, 32, 3], numClasses: 2, seed: 1 });
    await saveModel(net, modelPath, { architecture: 'small-cnn' });
    net.dispose();
    imagesPath = path.join(scratch, 'images');
    for (const [k, name] of ['dark', 'light'].entries()) {
      fs.mkdirSync(path.join(imagesPath, name), { recursive: true });
      for (let i = 0; i < 6; i++) {
        const raw = Buffer.alloc(40 * 40 * 3, k * 160 + i * 10);
        await sharp(raw, { raw: { width: 40, height: 40, channels: 3 } })
          .png()
          .toFile(path.join(imagesPath, name, `${i}.png`));
      }
    }
  }
  const model = await loadTfjsModel(modelPath);
  const index = scanImageFolder(imagesPath);
  const [h, w] = model.inputShape;
  const source = imageFileSource(index.files, { size: [h, w], resize: 'cover' });
  const evaluation = await evaluatePolicies(tfjsClassifier(model), source, index.labels, [makePolicy('flip')]);
  console.log(`classes: ${index.classes.join(', ')}; ${evaluation.indices.length} images`);
  console.log(`no TTA: ${(evaluation.baseline.metrics.accuracy * 100).toFixed(1)}%`);
  for (const run of evaluation.runs) {
    console.log(
      `${run.policy.name}: ${(run.metrics.accuracy * 100).toFixed(1)}% (lift ${(run.lift * 100).toFixed(1)} pp, McNemar p ${run.mcnemarP.toFixed(3)})`,
    );
  }
  model.dispose();
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
