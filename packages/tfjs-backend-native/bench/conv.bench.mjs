// pnpm bench (in @tta/tfjs-backend-native): the reference CNN's two convolutions at batch 128,
// each pass on oneDNN against the addon's own kernels in the same run (useOnednn(true) vs
// useOnednn(false)): median milliseconds of forward (bias + relu fused), backward-data and
// backward-weights, and the ratio, and the forward and backward-data passes as Winograd's
// F(4x4, 3x3) where it applies (useWinograd). Then each layer's fused inference block
// (convolution + bias + relu, batch norm, 2x2 max pooling: addon.convBlock) with the direct
// convolution against Winograd's. pnpm bench:peers shows the same switches on the whole model.
// TTA_BENCH_REPEATS: timed runs per kernel (default 10).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const native = require('../dist/index.js');
const { addon } = require('../dist/addon.js');

const REPEATS = Number(process.env.TTA_BENCH_REPEATS ?? 10);
const info = native.backendInfo();
console.log(
  `convolutions of the reference CNN, batch 128: oneDNN ${info.onednn || '(not built in)'} vs our kernels ` +
    `(GEMM ${info.gemm}), ${info.threads} threads, median of ${REPEATS}`,
);
if (info.onednn === '') {
  console.log('oneDNN: not built in (install libdnnl-dev and rebuild), so there is nothing to compare');
  process.exit(0);
}

const random = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const layers = [
  { name: 'conv1 32x32x3 -> 32', n: 128, h: 32, w: 32, c: 3, outC: 32 },
  { name: 'conv2 16x16x32 -> 64', n: 128, h: 16, w: 16, c: 32, outC: 64 },
];

function median(fn) {
  fn();
  const times = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const enabledBefore = info.onednnEnabled;
const winogradBefore = info.winogradEnabled;
const column = (value, width) => value.padStart(width);
console.log(
  `\n${'layer'.padEnd(24)}${'pass'.padEnd(18)}${column('ours ms', 10)}${column('oneDNN ms', 11)}` +
    `${column('Winograd ms', 13)}${column('oneDNN vs ours', 16)}${column('Winograd vs oneDNN', 20)}`,
);
for (const l of layers) {
  // 3x3, stride 1, 'same' padding, as in the reference CNN.
  const dims = Int32Array.from([l.n, l.h, l.w, l.c, 3, 3, l.outC, 1, 1, 1, 1, l.h, l.w]);
  const x = random(l.n * l.h * l.w * l.c);
  const filter = random(9 * l.c * l.outC);
  const bias = random(l.outC);
  const y = new Float32Array(l.n * l.h * l.w * l.outC);
  const dy = random(y.length);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(filter.length);
  const passes = [
    ['forward+bias+relu', () => addon.conv2d(x, filter, bias, 1, dims, y, info.threads)],
    ['backward-data', () => addon.conv2dBackpropInput(dy, filter, dims, dx, info.threads)],
    ['backward-weights', () => addon.conv2dBackpropFilter(x, dy, dims, dw, info.threads)],
  ];
  for (const [pass, run] of passes) {
    native.useWinograd(false);
    native.useOnednn(false);
    const ours = median(run);
    native.useOnednn(true);
    const before = native.backendInfo().onednnConvolutions;
    const onednn = median(run);
    // oneDNN may decline a geometry, Winograd's may not apply; '(declined)' and '-' say so.
    const ran = native.backendInfo().onednnConvolutions > before;
    native.useWinograd(true);
    const winogradRuns = native.backendInfo().winogradConvolutions;
    const winograd = median(run);
    const took = native.backendInfo().winogradConvolutions > winogradRuns;
    console.log(
      `${l.name.padEnd(24)}${pass.padEnd(18)}${column(ours.toFixed(2), 10)}${column(onednn.toFixed(2), 11)}` +
        `${column(took ? winograd.toFixed(2) : '-', 13)}` +
        `${column(ran ? `${(ours / onednn).toFixed(2)}x` : '(declined)', 16)}` +
        `${column(took ? `${(onednn / winograd).toFixed(2)}x` : '-', 20)}`,
    );
  }
}
native.useOnednn(enabledBefore);

console.log(
  `\ninference blocks (conv + bias + relu, batch norm, 2x2 max pool), Winograd on ${info.winograd || '(no AVX2)'}` +
    `\n${'layer'.padEnd(24)}${column('direct ms', 10)}${column('Winograd ms', 13)}${column('Winograd vs direct', 20)}`,
);
for (const l of layers) {
  const dims = Int32Array.from([l.n, l.h, l.w, l.c, 3, 3, l.outC, 1, 1, 1, 1, l.h, l.w]);
  const poolDims = Int32Array.from([l.n, l.h, l.w, l.outC, 2, 2, 2, 2, 0, 0, l.h / 2, l.w / 2]);
  const x = random(l.n * l.h * l.w * l.c);
  const filter = random(9 * l.c * l.outC);
  const [bias, mean, offset, scale] = [random(l.outC), random(l.outC), random(l.outC), random(l.outC)];
  const variance = random(l.outC).map((v) => v + 1.5);
  const out = new Float32Array((l.n * l.h * l.w * l.outC) / 4);
  let used = false;
  const block = (winograd) => () => {
    native.useWinograd(winograd);
    used = addon.convBlock(x, filter, bias, 1, dims, mean, variance, offset, scale, 1e-3, poolDims, out, info.threads);
  };
  const direct = median(block(false));
  const winograd = median(block(true));
  console.log(
    `${l.name.padEnd(24)}${column(direct.toFixed(2), 10)}${column(winograd.toFixed(2), 13)}` +
      `${column(used ? `${(direct / winograd).toFixed(2)}x` : '(not taken)', 20)}`,
  );
}
native.useWinograd(winogradBefore);
