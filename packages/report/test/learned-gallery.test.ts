import { PNG } from 'pngjs';
import { inflateSync } from 'node:zlib';
import { meta, tuneFixture } from './fixtures';
import { chartSvg, elements, num, texts } from './svg-inspect';
import { encodePng, renderReport, type GalleryInput, type TuneReport } from '../src/index';
import { crc32 } from '../src/png';

function pixels(width: number, height: number, channels: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + seed * 101) % 256);
}

describe('encodePng', () => {
  test.each([
    [1, 7, 5],
    [3, 32, 32],
    [4, 3, 9],
  ])('%i channel(s): pngjs reads back the same pixels', (channels, width, height) => {
    const data = pixels(width, height, channels, channels);
    const png = PNG.sync.read(encodePng(width, height, channels, data));
    expect([png.width, png.height]).toEqual([width, height]);
    // pngjs gives RGBA: compare each channel we wrote.
    for (let p = 0; p < width * height; p++) {
      if (channels === 1)
        expect([png.data[p * 4], png.data[p * 4 + 1], png.data[p * 4 + 2]]).toEqual([data[p]!, data[p]!, data[p]!]);
      else for (let c = 0; c < channels; c++) expect(png.data[p * 4 + c]).toBe(data[p * channels + c]);
    }
  });

  test('crc32 of the check string', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  test('bad input names the parameter', () => {
    expect(() => encodePng(0, 2, 3, new Uint8Array(0))).toThrow(/width/);
    expect(() => encodePng(2, 2, 2, new Uint8Array(8))).toThrow(/channels/);
    expect(() => encodePng(2, 2, 3, new Uint8Array(11))).toThrow(/12 values for pixels/);
  });
});

const HOSTILE = '<script>alert("x")</script>';

function learnedTune(): TuneReport {
  const tune = tuneFixture();
  tune.candidates.push(
    {
      name: `greedy 3 views learned ${HOSTILE}`,
      viewSpec: 'id,flip,dx=1',
      forwardPasses: 3,
      fill: 'reflect',
      merge: 'learned',
      accuracy: 0.71,
      nll: 0.85,
      learned: { shape: 'view', weights: [0.5, 0.45, 0.05], views: ['id', 'flip', 'dx=1'] },
      meanOfSameViews: 'greedy 3 views as mean',
    },
    {
      name: 'greedy 3 views learned per class',
      viewSpec: 'id,flip,dx=1',
      forwardPasses: 3,
      fill: 'reflect',
      merge: 'learned',
      accuracy: 0.709,
      nll: 0.86,
      // 3 views x 2 classes, view-major: class 0 (0.6, 0.3, 0.1), class 1 (0.2, 0.5, 0.3).
      learned: { shape: 'view-class', weights: [0.6, 0.2, 0.3, 0.5, 0.1, 0.3], views: ['id', 'flip', 'dx=1'] },
    },
  );
  tune.tested = [
    {
      role: 'plain',
      name: 'none',
      temperature: 1.31,
      test: { accuracy: 0.672, nll: 0.97, ece: 0.041 },
      calibrated: { accuracy: 0.672, nll: 0.951, ece: 0.012 },
    },
    {
      role: 'learned',
      name: `greedy 3 views learned ${HOSTILE}`,
      temperature: 1.12,
      test: { accuracy: 0.7, nll: 0.88, ece: 0.03 },
      calibrated: { accuracy: 0.7, nll: 0.87, ece: 0.011 },
    },
  ];
  tune.paired = [
    {
      policy: `greedy 3 views learned ${HOSTILE}`,
      against: 'greedy 3 views as mean',
      policyOnly: 71,
      againstOnly: 48,
      accuracyDifference: 0.0023,
      calibratedNllDifference: -0.0112,
      mcnemarP: 0.0427,
    },
  ];
  return tune;
}

function gallery(): GalleryInput {
  return {
    policy: `flip ${HOSTILE}`,
    fixed: 140,
    broke: 61,
    items: [
      {
        kind: 'fixed',
        index: 12,
        truth: 3,
        plain: { label: 5, probability: 0.61 },
        tta: { label: 3, probability: 0.48 },
        image: { width: 4, height: 3, channels: 3, pixels: pixels(4, 3, 3, 1) },
      },
      {
        kind: 'fixed',
        index: 40,
        truth: 0,
        plain: { label: 8, probability: 0.5 },
        tta: { label: 0, probability: 0.52 },
        image: { width: 4, height: 3, channels: 3, pixels: pixels(4, 3, 3, 2) },
      },
      {
        kind: 'broke',
        index: 7,
        truth: 1,
        plain: { label: 1, probability: 0.55 },
        tta: { label: 9, probability: 0.44 },
        image: { width: 4, height: 3, channels: 3, pixels: pixels(4, 3, 3, 3) },
      },
    ],
  };
}

describe('renderReport: learned merges, temperatures and the gallery', () => {
  const classNames = ['plane', 'car', 'bird', `cat ${HOSTILE}`, 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
  const html = renderReport({ tune: learnedTune(), gallery: gallery(), classNames, meta: meta() });

  test('no unescaped text anywhere', () => {
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  test('the test table shows NLL and ECE before and after each temperature, and the McNemar pairing', () => {
    const table = /<table class="calibration">[\s\S]*?<\/table>/.exec(html)![0];
    const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
      .slice(1)
      .map((m) => [...m[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1]));
    expect(rows[0]).toEqual(['none', 'plain', '1.310', '67.20%', '0.9700', '0.9510', '4.10%', '1.20%']);
    expect(rows[1]!.slice(2)).toEqual(['1.120', '70.00%', '0.8800', '0.8700', '3.00%', '1.10%']);
    const paired = /<p class="paired">([\s\S]*?)<\/p>/.exec(html)![1];
    expect(paired).toContain('71 test images right only with the first, 48 only with the second');
    expect(paired).toContain('McNemar p 0.043');
  });

  test('the learned weights as a chart: one bar per view, its width the weight (per class: the mean)', () => {
    for (const [id, expected] of [
      ['tune-learned-0', [0.5, 0.45, 0.05]],
      ['tune-learned-1', [0.4, 0.4, 0.2]],
    ] as const) {
      const svg = chartSvg(html, 'learned-weights', id);
      const bars = elements(svg, 'rect', 'bar-gain');
      expect(bars.map((b) => num(b, 'data-value'))).toEqual(expected.map((w) => expect.closeTo(w, 12)));
      // Widths are proportional to the weights (same scale, bars start at the axis).
      const ratio = num(bars[0]!, 'width') / expected[0];
      bars.forEach((b, i) => expect(num(b, 'width')).toBeCloseTo(ratio * expected[i]!, -0.5));
      expect(texts(svg, 'label')).toEqual(['id', 'flip', 'dx=1']);
      expect(elements(svg, 'line', 'baseline-line')).toHaveLength(1);
    }
    // Per class, the whisker spans the lowest to the highest class weight of each view.
    const perClass = chartSvg(html, 'learned-weights', 'tune-learned-1');
    expect(elements(perClass, 'line', 'whisker')).toHaveLength(3);
  });

  test('the gallery: thumbnails decoded from their data URIs are the pixels given, with labels and probabilities', () => {
    const section = /<section id="gallery">[\s\S]*?<\/section>/.exec(html)![0];
    const tiles = [...section.matchAll(/<figure class="tile (fixed|broke)" data-index="(\d+)">([\s\S]*?)<\/figure>/g)];
    expect(tiles.map((t) => [t[1], t[2]])).toEqual([
      ['fixed', '12'],
      ['fixed', '40'],
      ['broke', '7'],
    ]);
    const given = gallery().items;
    tiles.forEach((t, i) => {
      const uri = /src="data:image\/png;base64,([^"]+)"/.exec(t[3]!)![1]!;
      const png = PNG.sync.read(Buffer.from(uri, 'base64'));
      const rgb = Uint8Array.from({ length: 4 * 3 * 3 }, (_, j) => png.data[Math.floor(j / 3) * 4 + (j % 3)]!);
      expect(Array.from(rgb)).toEqual(Array.from(given[i]!.image.pixels));
    });
    expect(tiles[0]![3]).toContain(`<span class="truth">cat &lt;script&gt;`);
    expect(tiles[0]![3]).toContain('plain: dog 61%');
    expect(tiles[0]![3]).toMatch(/class="pred good">TTA: cat &lt;script&gt;.*? 48%/);
    expect(tiles[2]![3]).toContain('class="pred bad">TTA: truck 44%');
    expect(section).toContain('fixed: 140 in all');
    expect(html).toContain('<a href="#gallery">');
    // The PNG's compressed stream is valid zlib (what a browser inflates).
    const first = Buffer.from(/base64,([^"]+)"/.exec(tiles[0]![3]!)![1]!, 'base64');
    const idat = first.indexOf('IDAT');
    expect(() => inflateSync(first.subarray(idat + 4, idat + 4 + first.readUInt32BE(idat - 4)))).not.toThrow();
  });

  test('a gallery whose pixels do not match its size is refused by name', () => {
    const bad = gallery();
    bad.items[1]!.image.pixels = new Uint8Array(5);
    expect(() => renderReport({ tune: learnedTune(), gallery: bad, meta: meta() })).toThrow(
      /input.gallery.items\[1\].image.pixels/,
    );
  });
});
