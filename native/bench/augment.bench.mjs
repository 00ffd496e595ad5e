// pnpm bench (in @tta/native): augment and softVote against a same-run memory copy
// ceiling (TypedArray.prototype.set of the bytes written), the TS reference and
// TensorFlow.js ops doing the same work. Machines are noisy: every figure that is
// judged is a ratio to a baseline measured in this run.
import { createRequire } from 'node:module';
import { augment, softVote, hardwareThreads } from '../dist/index.js';
import { augmentReference, softVoteReference } from '../dist/reference.js';

const require = createRequire(import.meta.url);
const quick = process.argv.includes('--quick');
const N = quick ? 2000 : 10000;
const H = 32,
  W = 32,
  C = 3;
const VIEWS = [
  {},
  { flip: true },
  { dx: 2 },
  { dx: -2 },
  { dy: 2 },
  { flip: true, dx: 2 },
  { flip: true, dx: -2, dy: -2 },
  { flip: true, dy: 2 },
];
const threads = hardwareThreads();

function time(fn, { repeats = 5, minMs = 300 } = {}) {
  fn(); // warm-up
  const samples = [];
  const start = performance.now();
  while (samples.length < repeats || (performance.now() - start < minMs && samples.length < 50)) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] / 1000; // median seconds
}

const rows = [];
function report(group, name, seconds, images, bytes, baseline) {
  rows.push({ group, name, seconds, images, bytes, baseline });
}

function printTable() {
  const byGroup = new Map();
  for (const r of rows) (byGroup.get(r.group) ?? byGroup.set(r.group, []).get(r.group)).push(r);
  for (const [group, list] of byGroup) {
    console.log(`\n${group}`);
    const ceiling = list.find((r) => r.baseline === 'ceiling');
    const reference = list.find((r) => r.baseline === 'reference');
    const sharpRow = list.find((r) => r.baseline === 'sharp');
    console.log(
      `  ${'method'.padEnd(40)} ${'images/s'.padStart(12)} ${'GB/s'.padStart(7)} ${'vs copy'.padStart(8)} ${'vs TS ref'.padStart(10)}${sharpRow ? ' vs sharp'.padStart(10) : ''}`,
    );
    for (const r of list) {
      const ips = r.images / r.seconds;
      const gbs = r.bytes / r.seconds / 1e9;
      const vsCopy = ceiling ? gbs / (ceiling.bytes / ceiling.seconds / 1e9) : NaN;
      const vsRef = reference ? ips / (reference.images / reference.seconds) : NaN;
      const pct = Number.isFinite(vsCopy) ? `${(vsCopy * 100).toFixed(0)}%` : '-';
      const x = Number.isFinite(vsRef) ? `${vsRef.toFixed(1)}x` : '-';
      const vsSharp = sharpRow ? ips / (sharpRow.images / sharpRow.seconds) : NaN;
      const sx = sharpRow ? (Number.isFinite(vsSharp) ? `${vsSharp.toFixed(1)}x` : '-').padStart(10) : '';
      console.log(
        `  ${r.name.padEnd(40)} ${ips.toFixed(0).padStart(12)} ${gbs.toFixed(2).padStart(7)} ${pct.padStart(8)} ${x.padStart(10)}${sx}`,
      );
    }
  }
}

// ---- crops and zooms at 224x224 -------------------------------------------------
// ImageNet-sized views out of 256x256 images: ten-crop (copies at the output size) against
// the copy ceiling, zooms (bilinear resampling) against the TS reference, and both against
// sharp (libvips) cropping / resizing the same images to uint8 (the float32 conversion and
// scale are extra work augment does in the same pass). `--resample-only` runs just this part.
async function timeAsync(fn, { repeats = 3 } = {}) {
  await fn();
  const samples = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] / 1000;
}

async function benchResample() {
  const n = quick ? 8 : 16;
  const S = 256,
    O = 224;
  const images = new Uint8Array(n * S * S * C);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  const positions = ['center', 'top-left', 'top-right', 'bottom-left', 'bottom-right'];
  const crops = positions.map((position) => ({ crop: { position, size: O } }));
  const tenCrop = [...crops, ...crops.map((v) => ({ ...v, flip: true }))];
  const zoomFactors = [1, 0.9, 1.1, 1.25];
  const zooms = zoomFactors.flatMap((zoom) => [{ zoom }, { zoom, flip: true }]);
  const sharp = require('sharp');
  const options = { outputShape: [O, O], scale: 1 / 255, fill: 'reflect' };
  const refN = 1;
  for (const [name, views] of [
    ['ten-crop 224 (copies)', tenCrop],
    [`zooms ${zoomFactors.join(', ')} with flips (bilinear)`, zooms],
  ]) {
    const group = `augment: ${n} images ${S}x${S}x${C} uint8 -> ${views.length} views ${O}x${O} float32 (scale 1/255): ${name}`;
    const out = new Float32Array(views.length * n * O * O * C);
    const copySource = new Float32Array(out.length).fill(0.5);
    const count = views.length * n;
    report(
      group,
      'copy ceiling (TypedArray.set)',
      time(() => out.set(copySource)),
      count,
      out.byteLength,
      'ceiling',
    );
    report(
      group,
      'native, 1 thread',
      time(() => augment(images, [n, S, S, C], views, { ...options, out, threads: 1 })),
      count,
      out.byteLength,
    );
    report(
      group,
      `native, ${threads} threads`,
      time(() => augment(images, [n, S, S, C], views, { ...options, out, threads })),
      count,
      out.byteLength,
    );
    const refOut = new Float32Array(views.length * refN * O * O * C);
    report(
      group,
      `TS reference (${refN} image)`,
      time(
        () =>
          augmentReference(images.subarray(0, refN * S * S * C), [refN, S, S, C], views, { ...options, out: refOut }),
        { repeats: 3, minMs: 0 },
      ),
      views.length * refN,
      refOut.byteLength,
      'reference',
    );
    // sharp: one pipeline per image and view (extract, or extract + resize; flop for flips), raw uint8 out.
    const windows = views.map((v) => {
      if (v.crop) {
        const top = v.crop.position === 'center' ? (S - O) >> 1 : v.crop.position.startsWith('top') ? 0 : S - O;
        const left = v.crop.position === 'center' ? (S - O) >> 1 : v.crop.position.endsWith('left') ? 0 : S - O;
        return { extract: { top, left, width: O, height: O }, flip: !!v.flip };
      }
      const size = Math.min(S, Math.round(S / v.zoom));
      const start = (S - size) >> 1;
      // Zooms below 1 would need sharp's extend (padding) too: it resizes the whole image instead.
      return { extract: { top: start, left: start, width: size, height: size }, flip: !!v.flip };
    });
    const raw = Array.from({ length: n }, (_, i) => Buffer.from(images.buffer, i * S * S * C, S * S * C));
    const sharpRun = () =>
      Promise.all(
        raw.flatMap((buffer) =>
          windows.map((w) => {
            let pipeline = sharp(buffer, { raw: { width: S, height: S, channels: C } }).extract(w.extract);
            if (w.flip) pipeline = pipeline.flop();
            if (w.extract.width !== O) pipeline = pipeline.resize(O, O, { kernel: 'linear' });
            return pipeline.raw().toBuffer();
          }),
        ),
      );
    report(group, 'sharp (libvips, uint8 out)', await timeAsync(sharpRun), count, count * O * O * C, 'sharp');
  }
}

await benchResample();
if (process.argv.includes('--resample-only')) {
  printTable();
  process.exit(0);
}

// ---- augment ------------------------------------------------------------------
const pixels = N * H * W * C;
const u8 = new Uint8Array(pixels);
for (let i = 0; i < pixels; i++) u8[i] = (i * 2654435761) >>> 24;
const f32 = new Float32Array(pixels);
for (let i = 0; i < pixels; i++) f32[i] = u8[i] / 255;
const out = new Float32Array(VIEWS.length * pixels);
const outBytes = out.byteLength;
const copySource = new Float32Array(out.length).fill(0.5);
const refN = Math.min(N, 500);

for (const [label, input] of [
  ['uint8 -> float32 (scale 1/255)', u8],
  ['float32', f32],
]) {
  const group = `augment: ${N} images ${H}x${W}x${C}, ${VIEWS.length} views (flip, shifts), fill reflect, ${label}`;
  const scale = input === u8 ? 1 / 255 : 1;
  const images = VIEWS.length * N;
  report(
    group,
    'copy ceiling (TypedArray.set)',
    time(() => out.set(copySource)),
    images,
    outBytes,
    'ceiling',
  );
  report(
    group,
    'native, 1 thread',
    time(() => augment(input, [N, H, W, C], VIEWS, { fill: 'reflect', scale, out, threads: 1 })),
    images,
    outBytes,
  );
  report(
    group,
    `native, ${threads} threads`,
    time(() => augment(input, [N, H, W, C], VIEWS, { fill: 'reflect', scale, out, threads })),
    images,
    outBytes,
  );
  const refImages = input.subarray(0, refN * H * W * C);
  const refOut = new Float32Array(VIEWS.length * refImages.length);
  report(
    group,
    `TS reference (${refN} images)`,
    time(() => augmentReference(refImages, [refN, H, W, C], VIEWS, { fill: 'reflect', scale, out: refOut }), {
      repeats: 3,
      minMs: 0,
    }),
    VIEWS.length * refN,
    refOut.byteLength,
    'reference',
  );
}

// TensorFlow.js ops doing the same work: cast and scale, flip, symmetric pad, slice.
async function tfjsBackends() {
  const tf = require('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-cpu');
  const found = ['cpu'];
  try {
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    const path = require('node:path');
    wasm.setWasmPaths(
      path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep,
    );
    found.push('wasm');
  } catch {
    /* not installed */
  }
  return { tf, found };
}

const { tf, found } = await tfjsBackends();
const group = `augment: ${N} images ${H}x${W}x${C}, ${VIEWS.length} views (flip, shifts), fill reflect, uint8 -> float32 (scale 1/255)`;
const tfN = Math.min(N, 1000);
const tfInput = u8.subarray(0, tfN * H * W * C);
for (const name of found) {
  try {
    if (!(await tf.setBackend(name))) continue;
    await tf.ready();
    const pad = 2;
    const run = () => {
      const result = tf.tidy(() => {
        const x = tf.mul(tf.cast(tf.tensor4d(tfInput, [tfN, H, W, C], 'int32'), 'float32'), 1 / 255);
        const flipped = tf.image.flipLeftRight(x);
        const views = VIEWS.map((v) => {
          const padded = tf.mirrorPad(
            v.flip ? flipped : x,
            [
              [0, 0],
              [pad, pad],
              [pad, pad],
              [0, 0],
            ],
            'symmetric',
          );
          return tf.slice(padded, [0, pad - (v.dy ?? 0), pad - (v.dx ?? 0), 0], [tfN, H, W, C]);
        });
        return tf.concat(views, 0);
      });
      result.dataSync();
      result.dispose();
    };
    report(
      group,
      `tfjs ${name} ops (${tfN} images)`,
      time(run, { repeats: 2, minMs: 0 }),
      VIEWS.length * tfN,
      VIEWS.length * tfN * H * W * C * 4,
    );
  } catch (error) {
    console.log(`(tfjs ${name}: ${error.message})`);
  }
}

// ---- softVote -----------------------------------------------------------------
for (const K of [10, 1000]) {
  const V = 8;
  const p = new Float32Array(V * N * K);
  for (let i = 0; i < p.length; i++) p[i] = ((i * 2654435761) >>> 8) / 2 ** 24 / K;
  const groupName = `softVote: [${V}, ${N}, ${K}] (mean unless named)`;
  const bytes = p.byteLength;
  const copyOut = new Float32Array(p.length);
  const scores = new Float32Array(N * K);
  const labels = new Int32Array(N);
  report(
    groupName,
    'copy ceiling (TypedArray.set)',
    time(() => copyOut.set(p)),
    N,
    bytes,
    'ceiling',
  );
  report(
    groupName,
    'native, 1 thread',
    time(() => softVote(p, [V, N, K], { out: scores, labels, threads: 1 })),
    N,
    bytes,
  );
  report(
    groupName,
    `native, ${threads} threads`,
    time(() => softVote(p, [V, N, K], { out: scores, labels, threads })),
    N,
    bytes,
  );
  const refN2 = Math.min(N, K > 100 ? 200 : 2000);
  const pr = p.subarray(0, V * refN2 * K);
  report(
    groupName,
    `TS reference (${refN2} images)`,
    time(() => softVoteReference(pr, [V, refN2, K]), { repeats: 3, minMs: 0 }),
    refN2,
    pr.byteLength,
    'reference',
  );
  for (const merge of ['gmean', 'vote']) {
    report(
      groupName,
      `native ${merge}, ${threads} threads`,
      time(() => softVote(p, [V, N, K], { merge, out: scores, labels, threads })),
      N,
      bytes,
    );
  }
}

printTable();
console.log(
  `\nthreads available: ${threads}. Targets: native augment and softVote >= 50% of the copy ceiling and >= 20x the TS reference; at 224x224, crops >= 50% of the copy ceiling, zooms >= 20x the TS reference.`,
);
