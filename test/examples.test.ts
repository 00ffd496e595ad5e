// Every script in examples/ runs and prints what its use case promises, so the examples in
// the README and examples/README.md cannot rot.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const examples = path.resolve(__dirname, '..', 'examples');
const run = (script: string, args: string[] = []) =>
  execFileSync(process.execPath, [path.join(examples, script), ...args], { encoding: 'utf8', timeout: 120_000 });

test('every example is tested here', () => {
  const scripts = fs
    .readdirSync(examples)
    .filter((f) => f.endsWith('.mjs'))
    .sort();
  expect(scripts).toEqual(['augment-and-vote.mjs', 'evaluate-folder.mjs', 'tta-function.mjs', 'tta-tfjs-model.mjs']);
});

test('augment-and-vote: merged probabilities and labels for two images', () => {
  const out = run('augment-and-vote.mjs');
  expect(out).toMatch(/merged probabilities: (\d\.\d{3} ){5}\d\.\d{3}/);
  expect(out).toMatch(/labels: \d \d/);
});

test('tta-function: a flip-invariant stand-in model keeps its answers under TTA', () => {
  const out = run('tta-function.mjs');
  expect(out).toContain('policy flip-shift: 10 forward passes per image');
  expect(out).toContain('labels: 0 0 1 1');
});

test('tta-tfjs-model: a model from disk with TTA (the Keras model when it is there)', () => {
  const out = run('tta-tfjs-model.mjs');
  expect(out).toMatch(/graph-model 32x32x3 -> 10 classes|no model at/);
}, 120_000);

test('evaluate-folder: a streamed folder through evaluatePolicies', () => {
  const out = run('evaluate-folder.mjs');
  expect(out).toContain('classes: dark, light; 12 images');
  expect(out).toMatch(/no TTA: \d+\.\d%\nflip: \d+\.\d% \(lift -?\d+\.\d pp, McNemar p \d\.\d{3}\)/);
}, 120_000);
