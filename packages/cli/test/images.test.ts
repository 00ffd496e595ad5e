// Your own model on your own images, end to end through the CLI. The oracle is a CIFAR-10
// model trained by real Keras (../shared/models/keras-cifar10) with Keras' own test-set
// probabilities: the test set written as PNG files in class folders must give Keras'
// accuracy exactly and its probabilities within 1e-4, in both model formats.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImageFile } from '@tta/data';
import { writeLinearGraph } from '@tta/model/testing';
import { BIN, REAL_DATA, REPO, runCli, tempDir } from './helpers';

const KERAS = path.resolve(REPO, '..', 'shared', 'models', 'keras-cifar10');
const hasKeras =
  fs.existsSync(path.join(KERAS, 'keras-test-probabilities.f32')) &&
  fs.existsSync(path.join(REAL_DATA, 'test_batch.bin'));
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function noStack(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at /);
}

/** CIFAR-10 test image i as NHWC RGB bytes, with its label. */
function cifarImage(bytes: Buffer, i: number): { pixels: Buffer; label: number } {
  const pixels = Buffer.alloc(3072);
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) pixels[p * 3 + c] = bytes[i * 3073 + 1 + c * 1024 + p]!;
  return { pixels, label: bytes[i * 3073]! };
}

/** Writes the first `count` test images as class-folder files; the file name is the test index. */
async function writeCifarFolder(dir: string, count: number, format: 'png' | 'jpg'): Promise<void> {
  const bytes = fs.readFileSync(path.join(REAL_DATA, 'test_batch.bin'));
  for (const name of CLASSES) fs.mkdirSync(path.join(dir, name), { recursive: true });
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const { pixels, label } = cifarImage(bytes, i);
    const image = sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } });
    const file = path.join(dir, CLASSES[label]!, `${String(i).padStart(5, '0')}.${format}`);
    jobs.push(format === 'png' ? image.png().toFile(file) : image.jpeg({ quality: 95 }).toFile(file));
    if (jobs.length >= 64) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

function testIndex(file: string): number {
  return Number(path.basename(file).replace(/\.\w+$/, ''));
}

const describeKeras = hasKeras
  ? describe
  : (title: string, fn: () => void) =>
      describe.skip(`${title} (skipped: no ../shared/models/keras-cifar10 or CIFAR-10 data)`, fn);

describeKeras('the Keras CIFAR-10 model on the test set written as PNG files', () => {
  let png: string;
  const keras = () =>
    new Float32Array(fs.readFileSync(path.join(KERAS, 'keras-test-probabilities.f32')).buffer.slice(0));
  beforeAll(async () => {
    png = path.join(tempDir('png'), 'test');
    await writeCifarFolder(png, 10000, 'png');
  }, 300_000);

  test("tta eval --policies none reproduces Keras' accuracy exactly (66.88%), and flip Keras' own flip (69.17%)", async () => {
    const r = await runCli([
      'eval',
      '--model',
      path.join(KERAS, 'graph'),
      '--images',
      png,
      '--policies',
      'none,flip',
      '--json',
      '-',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.data).toMatchObject({ name: 'image-folder', test: 10000, evaluated: 10000, classes: CLASSES });
    expect(report.model).toMatchObject({
      format: 'graph-model',
      inputShape: [32, 32, 3],
      classes: 10,
      outputs: 'probabilities',
    });
    expect(report.baseline.accuracy.mean).toBe(0.6688);
    // Keras summed the softmax of each image and its mirror: the same argmax as the mean.
    expect(report.policies[1].accuracy.mean).toBeCloseTo(0.6917, 4);
  }, 300_000);

  test("tta predict gives Keras' probabilities within 1e-4, in both formats, which agree with each other", async () => {
    const expected = keras();
    const outputs: Map<number, number[]>[] = [];
    for (const format of ['graph', 'layers']) {
      const out = path.join(tempDir('predict'), `${format}.jsonl`);
      const r = await runCli([
        'predict',
        '--model',
        path.join(KERAS, format),
        '--images',
        png,
        '--policies',
        'none',
        '--top-k',
        '10',
        '--out',
        out,
        '--quiet',
      ]);
      expect(r.code).toBe(0);
      const byIndex = new Map<number, number[]>();
      for (const line of fs.readFileSync(out, 'utf8').trim().split('\n')) {
        const record = JSON.parse(line) as { path: string; top: { index: number; probability: number }[] };
        const row = new Array<number>(10);
        for (const t of record.top) row[t.index] = t.probability;
        byIndex.set(testIndex(record.path), row);
      }
      expect(byIndex.size).toBe(10000);
      let worst = 0;
      for (const [i, row] of byIndex)
        for (let k = 0; k < 10; k++) worst = Math.max(worst, Math.abs(row[k]! - expected[i * 10 + k]!));
      expect(worst).toBeLessThan(1e-4);
      outputs.push(byIndex);
    }
    let worst = 0;
    for (const [i, row] of outputs[0]!)
      for (let k = 0; k < 10; k++) worst = Math.max(worst, Math.abs(row[k]! - outputs[1]!.get(i)![k]!));
    expect(worst).toBeLessThan(1e-5);
  }, 300_000);

  test('tta predict resumes after a SIGKILL without repeating or losing a file', async () => {
    const dir = tempDir('resume');
    const full = path.join(dir, 'full.csv');
    const resumed = path.join(dir, 'resumed.csv');
    // Two classes' folders: 2,000 files.
    const folders = `${path.join(png, 'cat')},${path.join(png, 'dog')}`;
    const args = ['predict', '--model', path.join(KERAS, 'graph'), '--images', folders, '--chunk', '100', '--quiet'];
    expect((await runCli([...args, '--out', full])).code).toBe(0);
    // Kill the first run once a few chunks are on disk.
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args, '--out', resumed], {
        stdio: 'ignore',
        env: { ...process.env, CI: 'true' },
      });
      const timer = setInterval(() => {
        if (fs.existsSync(resumed) && fs.statSync(resumed).size > 30_000) child.kill('SIGKILL');
      }, 5);
      child.on('exit', (_code, signal) => {
        clearInterval(timer);
        expect(signal).toBe('SIGKILL');
        resolve();
      });
    });
    const partial = fs.readFileSync(resumed, 'utf8').split('\n').length - 2;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(2000);
    // A cut-off last line, as a kill in the middle of a write leaves it.
    fs.appendFileSync(resumed, '/half/written/line.png,cat,0.5');
    const again = await runCli([...args, '--out', resumed, '--quiet']);
    expect(again.code).toBe(0);
    // Every file once, in the same order; the numbers agree within float noise (a resumed run
    // batches the images differently, and kernels may round a little differently per batch).
    const parse = (file: string) =>
      fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(','));
    const a = parse(full);
    const b = parse(resumed);
    expect(b.map((r) => r[0])).toEqual(a.map((r) => r[0]));
    const probabilities = (row: string[]) => {
      const byClass = new Map<string, number>();
      for (let k = 1; k < row.length - 1; k += 2) byClass.set(row[k]!, Number(row[k + 1]));
      return byClass;
    };
    b.forEach((row, i) => {
      const reference = probabilities(a[i]!);
      for (const [cls, p] of probabilities(row)) {
        if (reference.has(cls)) expect(Math.abs(p - reference.get(cls)!)).toBeLessThan(1e-5);
      }
    });
  }, 300_000);
});

describe('image folders of any size, and bad files', () => {
  let dir: string;
  let model: string;
  beforeAll(async () => {
    dir = tempDir('folders');
    model = path.join(dir, 'model');
    // A small CNN for 64x64 RGB images and 3 classes, saved in the layers format.
    const { createModel, saveModel } = await import('@tta/model');
    const net = createModel('small-cnn', { inputShape: [64, 64, 3], numClasses: 3, seed: 2 });
    await saveModel(net, model, { architecture: 'small-cnn' });
    net.dispose();
    // Images of other sizes and kinds: they are resized to 64x64 on the way in.
    for (const [k, name] of ['a', 'b', 'c'].entries()) {
      fs.mkdirSync(path.join(dir, 'images', name), { recursive: true });
      for (let i = 0; i < 4; i++) {
        const raw = Buffer.alloc(80 * 50 * 3, (k * 80 + i * 10) % 256);
        const image = sharp(raw, { raw: { width: 80, height: 50, channels: 3 } });
        await (i % 2 ? image.png() : image.jpeg()).toFile(
          path.join(dir, 'images', name, `${i}.${i % 2 ? 'png' : 'jpg'}`),
        );
      }
    }
  }, 120_000);

  test('eval resizes to the model input; the JSON names the classes from the folders', async () => {
    const r = await runCli([
      'eval',
      '--model',
      model,
      '--images',
      path.join(dir, 'images'),
      '--policies',
      'none,flip',
      '--resize',
      'contain',
      '--json',
      '-',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.data).toMatchObject({ test: 12, evaluated: 12, classes: ['a', 'b', 'c'] });
    expect(report.model.inputShape).toEqual([64, 64, 3]);
  }, 120_000);

  test('--view-size reads the images larger than the model input; ten-crop and multiscale views are made from them', async () => {
    const r = await runCli([
      'eval',
      '--model',
      model,
      '--images',
      path.join(dir, 'images'),
      '--view-size',
      '96',
      '--policies',
      'none,ten-crop,multiscale,d4',
      '--policy',
      'crop=center:80+zoom=1.1+rot=90',
      '--json',
      '-',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.policies.map((p: { name: string }) => p.name)).toEqual([
      'none',
      'ten-crop',
      'multiscale',
      'd4',
      'crop=center:80+zoom=1.1+rot=90',
    ]);
    expect(report.policies[1].views).toBe(10);
    const small = await runCli([
      'eval',
      '--model',
      model,
      '--images',
      path.join(dir, 'images'),
      '--view-size',
      '48,96',
    ]);
    expect(small.code).not.toBe(0);
    expect(small.stderr).toMatch(/--view-size 48,96 is smaller than the model input 64x64/);
    noStack(small.stderr);
    const bad = await runCli(['eval', '--model', model, '--images', path.join(dir, 'images'), '--view-size', '96x96']);
    expect(bad.stderr).toMatch(/--view-size expects S or H,W, integers between 1 and 16384, got '96x96'/);
    // Without --view-size the images are read at the input size: a crop of that size is refused with the fix.
    const same = await runCli([
      'eval',
      '--model',
      model,
      '--images',
      path.join(dir, 'images'),
      '--policies',
      'five-crop',
    ]);
    expect(same.code).not.toBe(0);
    expect(same.stderr).toMatch(/images larger than the model's input 64x64 for the view crop=center/);
    noStack(same.stderr);
  }, 180_000);

  test('a corrupt file stops eval with one line naming it; --skip-bad skips it and lists it in the JSON', async () => {
    const images = path.join(dir, 'with-bad');
    fs.cpSync(path.join(dir, 'images'), images, { recursive: true });
    const bad = path.join(images, 'b', 'broken.png');
    fs.writeFileSync(bad, 'this is not a PNG');
    const fail = await runCli(['eval', '--model', model, '--images', images, '--policies', 'none', '--quiet']);
    expect(fail.code).not.toBe(0);
    expect(fail.stderr.trim().split('\n')).toHaveLength(1);
    expect(fail.stderr).toContain(bad);
    noStack(fail.stderr);
    const skip = await runCli([
      'eval',
      '--model',
      model,
      '--images',
      images,
      '--policies',
      'none',
      '--skip-bad',
      '--json',
      '-',
    ]);
    expect(skip.code).toBe(0);
    const report = JSON.parse(skip.stdout);
    expect(report.data.test).toBe(13);
    expect(report.data.evaluated).toBe(12);
    expect(report.data.skipped.map((s: { file: string }) => s.file)).toEqual([bad]);
  }, 120_000);

  test.each([
    [['--labels', '@LABELS2'], /--labels .* names 2 classes but the model outputs 3/],
    [['--images', '@TWO'], /has 2 class folders but the model outputs 3 classes; give --labels FILE/],
    [['--images', '@FLAT'], /holds image files at its top level/],
    [['--images', '@EMPTY'], /has no class sub-folders/],
    [['--outputs', 'scores'], /--outputs must be one of probabilities, logits, auto; got 'scores'/],
    [['--mean', '0.5,0.5,0.5'], /--mean and --std go together/],
    [['--image-size', '10'], /--image-size expects 2 comma-separated numbers/],
  ])(
    'bad input: %j',
    async (flags, message) => {
      const two = path.join(dir, 'two');
      fs.mkdirSync(path.join(two, 'x'), { recursive: true });
      fs.mkdirSync(path.join(two, 'y'), { recursive: true });
      fs.copyFileSync(path.join(dir, 'images', 'a', '1.png'), path.join(two, 'x', '1.png'));
      fs.copyFileSync(path.join(dir, 'images', 'a', '1.png'), path.join(two, 'y', '1.png'));
      const flat = path.join(dir, 'flat');
      fs.mkdirSync(flat, { recursive: true });
      fs.copyFileSync(path.join(dir, 'images', 'a', '1.png'), path.join(flat, '1.png'));
      const empty = path.join(dir, 'empty');
      fs.mkdirSync(empty, { recursive: true });
      const labels2 = path.join(dir, 'labels2.txt');
      fs.writeFileSync(labels2, 'a\nb\n');
      const args = (flags as string[]).map((f) =>
        f.replace('@LABELS2', labels2).replace('@TWO', two).replace('@FLAT', flat).replace('@EMPTY', empty),
      );
      const images = args.includes('--images') ? [] : ['--images', path.join(dir, 'images')];
      const r = await runCli(['eval', '--model', model, ...images, ...args, '--quiet']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message as RegExp);
      noStack(r.stderr);
    },
    60_000,
  );

  test('predict with --labels writes class names; unreadable files get a line with the reason under --skip-bad', async () => {
    const labels = path.join(dir, 'labels.txt');
    fs.writeFileSync(labels, 'first\nsecond\nthird\n');
    const images = path.join(dir, 'predict-bad');
    fs.cpSync(path.join(dir, 'images', 'c'), images, { recursive: true });
    fs.writeFileSync(path.join(images, '9.png'), 'broken');
    const r = await runCli([
      'predict',
      '--model',
      model,
      '--labels',
      labels,
      '--top-k',
      '2',
      '--skip-bad',
      '--quiet',
      images,
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('path,class_1,probability_1,class_2,probability_2,error');
    expect(lines).toHaveLength(6);
    for (const line of lines.slice(1, 5)) expect(line).toMatch(/,(first|second|third),0\.\d+|,(first|second|third),1,/);
    expect(lines[5]).toMatch(/9\.png,,,,,"?Cannot read the image/);
  }, 60_000);
});

describe('preprocessing presets, at 224x224, through a graph model', () => {
  test.each(['unit', 'symmetric', 'imagenet', 'caffe', 'raw', 'mean-std'])(
    '--preprocess %s: what tta predict outputs is the model on the preprocessed pixels',
    async (preset) => {
      const dir = tempDir(`pre-${preset}`);
      const model = path.join(dir, 'model');
      const graph = writeLinearGraph(model, {
        height: 224,
        width: 224,
        channels: 3,
        classes: 4,
        softmax: false,
        seed: 5,
      });
      const files: string[] = [];
      for (let i = 0; i < 3; i++) {
        const raw = Buffer.alloc(250 * 230 * 3);
        for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 3) + (p % 7) * 29) & 255;
        const file = path.join(dir, 'images', `${i}.png`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        await sharp(raw, { raw: { width: 250, height: 230, channels: 3 } })
          .png()
          .toFile(file);
        files.push(file);
      }
      const flags =
        preset === 'mean-std' ? ['--mean', '0.5,0.4,0.3', '--std', '0.2,0.25,0.3'] : ['--preprocess', preset];
      const r = await runCli([
        'predict',
        '--model',
        model,
        '--images',
        path.join(dir, 'images'),
        '--policies',
        'none',
        '--top-k',
        '4',
        '--format',
        'jsonl',
        '--quiet',
        ...flags,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // The expectation, computed here: the same decode, the preset's formula, the graph, a softmax.
      const formula: Record<string, (x: number, k: number) => number> = {
        unit: (x) => x / 255,
        symmetric: (x) => x / 127.5 - 1,
        imagenet: (x, k) => (x / 255 - [0.485, 0.456, 0.406][k]!) / [0.229, 0.224, 0.225][k]!,
        caffe: (x, k) => x - [103.939, 116.779, 123.68][k]!,
        raw: (x) => x,
        'mean-std': (x, k) => (x / 255 - [0.5, 0.4, 0.3][k]!) / [0.2, 0.25, 0.3][k]!,
      };
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { path: string; top: { index: number; probability: number }[] });
      expect(lines.map((l) => l.path)).toEqual(files);
      for (const [i, file] of files.entries()) {
        const pixels = await decodeImageFile(file, { size: [224, 224] });
        const input = new Float32Array(pixels.length);
        for (let p = 0; p < pixels.length; p += 3) {
          for (let k = 0; k < 3; k++) {
            // Caffe models take BGR: output channel k is input channel 2 - k.
            const x = pixels[p + (preset === 'caffe' ? 2 - k : k)]!;
            input[p + k] = formula[preset]!(x, k);
          }
        }
        const logits = graph.predict(input, 1);
        const max = Math.max(...logits);
        const exp = Array.from(logits, (v) => Math.exp(v - max));
        const sum = exp.reduce((a, b) => a + b, 0);
        for (const t of lines[i]!.top) expect(t.probability).toBeCloseTo(exp[t.index]! / sum, 4);
      }
    },
    120_000,
  );
});
