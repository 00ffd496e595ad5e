// Views of flips and shifts at the input's size are copies by runs, as before crops, zooms and
// rotations were added: the very same bits as the addon gave then (fixtures/augment-v1.json,
// written by fixtures/augment-v1.mjs with that build).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { augment, type AugmentOptions, type View } from '../lib/index';
import { expectBitEqual } from './helpers';

interface Case {
  shape: [number, number, number, number];
  dtype: 'uint8' | 'float32';
  images: string;
  views: View[];
  options: AugmentOptions;
  out: string;
}

const { cases } = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'augment-v1.json'), 'utf8')) as {
  cases: Case[];
};
const bytes = (text: string) => {
  const buffer = Buffer.from(text, 'base64');
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
};

test('the fixtures are all there', () => expect(cases.length).toBe(40));

test.each(cases.map((c, i) => [i, c] as const))('case %i: bit for bit what the addon gave before v2', (_i, c) => {
  const images = c.dtype === 'uint8' ? new Uint8Array(bytes(c.images)) : new Float32Array(bytes(c.images));
  for (const threads of [1, 3]) {
    expectBitEqual(augment(images, c.shape, c.views, { ...c.options, threads }), new Float32Array(bytes(c.out)));
  }
});
