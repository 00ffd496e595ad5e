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
    console.log(
      `  ${'method'.padEnd(34)} ${'images/s'.padStart(12)} ${'GB/s'.padStart(7)} ${'vs copy'.padStart(8)} ${'vs TS ref'.padStart(10)}`,
    );
    for (const r of list) {
      const ips = r.images / r.seconds;
      const gbs = r.bytes / r.seconds / 1e9;
      const vsCopy = ceiling ? gbs / (ceiling.bytes / ceiling.seconds / 1e9) : NaN;
      const vsRef = reference ? ips / (reference.images / reference.seconds) : NaN;
      const pct = Number.isFinite(vsCopy) ? `${(vsCopy * 100).toFixed(0)}%` : '-';
      const x = Number.isFinite(vsRef) ? `${vsRef.toFixed(1)}x` : '-';
      console.log(
        `  ${r.name.padEnd(34)} ${ips.toFixed(0).padStart(12)} ${gbs.toFixed(2).padStart(7)} ${pct.padStart(8)} ${x.padStart(10)}`,
      );
    }
  }
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
  `\nthreads available: ${threads}. Targets: native augment and softVote >= 50% of the copy ceiling and >= 20x the TS reference.`,
);
