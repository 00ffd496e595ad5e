// Prints pixel statistics of a PNG as JSON: `node png-stats.js FILE [R,G,B ...]`.
// Runs as a plain Node process because decoding and scanning megapixels inside
// jest's vm context is two orders of magnitude slower (cross-realm Buffers).
const { readFileSync } = require('node:fs');
const { PNG } = require('pngjs');

const [file, ...targets] = process.argv.slice(2);
const png = PNG.sync.read(readFileSync(file));
const rgbTargets = targets.map((t) => t.split(',').map(Number));
const seen = new Uint8Array(1 << 24);
let colours = 0;
let nonWhite = 0;
const near = rgbTargets.map(() => 0);
const data = png.data;
for (let i = 0; i < data.length; i += 4) {
  const r = data[i];
  const g = data[i + 1];
  const b = data[i + 2];
  const key = (r << 16) | (g << 8) | b;
  if (!seen[key]) {
    seen[key] = 1;
    colours++;
  }
  if (r < 245 || g < 245 || b < 245) nonWhite++;
  rgbTargets.forEach(([R, G, B], k) => {
    if (Math.abs(r - R) + Math.abs(g - G) + Math.abs(b - B) < 30) near[k]++;
  });
}
process.stdout.write(JSON.stringify({ width: png.width, height: png.height, colours, nonWhite, near }));
