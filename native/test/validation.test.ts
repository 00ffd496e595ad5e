import { augment, augmentAsync, softVote, softVoteAsync } from '../lib/index';
import { binding } from '../lib/binding';
import { augmentReference, softVoteReference } from '../lib/reference';

const img = new Float32Array(2 * 4 * 4 * 3);
const shape = [2, 4, 4, 3] as const;
const preds = new Float32Array(3 * 2 * 5).fill(0.2);
const pshape = [3, 2, 5] as const;

// Every case: the error class and a message naming the parameter, the expectation and what was received.
type Call = () => unknown;
function expectError(call: Call, kind: typeof TypeError | typeof RangeError, pattern: RegExp): void {
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(kind);
  expect((thrown as Error).message).toMatch(pattern);
}

describe('augment rejects bad input, naming the parameter', () => {
  const cases: [string, Call, typeof TypeError | typeof RangeError, RegExp][] = [
    [
      'images kind',
      () => augment(new Int16Array(96) as never, shape, [{}]),
      TypeError,
      /Expected a Float32Array or Uint8Array for images but received Int16Array of length 96/,
    ],
    [
      'clamped',
      () => augment(new Uint8ClampedArray(96) as never, shape, [{}]),
      TypeError,
      /for images but received Uint8ClampedArray/,
    ],
    ['float64', () => augment(new Float64Array(96) as never, shape, [{}]), TypeError, /for images/],
    ['array', () => augment([1, 2] as never, shape, [{}]), TypeError, /for images but received Array of length 2/],
    [
      'shape length',
      () => augment(img, [2, 4, 4] as never, [{}]),
      TypeError,
      /array of 4 integers \[n, h, w, c\] for shape/,
    ],
    [
      'shape negative',
      () => augment(img, [-2, 4, 4, 3], [{}]),
      RangeError,
      /integer >= 0 for shape\[0\] \(n\) but received -2/,
    ],
    ['shape fraction', () => augment(img, [2, 4.5, 4, 3], [{}]), RangeError, /for shape\[1\] \(h\) but received 4.5/],
    [
      'shape zero width',
      () => augment(new Float32Array(0), [2, 4, 0, 3], [{}]),
      RangeError,
      /integer >= 1 for shape\[2\] \(w\)/,
    ],
    [
      'shape string',
      () => augment(img, [2, 4, '4', 3] as never, [{}]),
      RangeError,
      /for shape\[2\] \(w\) but received '4' of type string/,
    ],
    [
      'length',
      () => augment(img, [2, 4, 4, 4], [{}]),
      RangeError,
      /Expected length 128 .* for images but received Float32Array of length 96/,
    ],
    [
      'overflow',
      () => augment(img, [2 ** 20, 2 ** 20, 2 ** 20, 3], [{}]),
      RangeError,
      /product is a safe integer for shape/,
    ],
    [
      'views empty',
      () => augment(img, shape, []),
      TypeError,
      /non-empty array of views for views but received Array of length 0/,
    ],
    ['views not array', () => augment(img, shape, {} as never), TypeError, /for views but received Object object/],
    [
      'view not object',
      () => augment(img, shape, [{}, 3] as never),
      TypeError,
      /for views\[1\] but received 3 of type number/,
    ],
    [
      'flip type',
      () => augment(img, shape, [{ flip: 1 }] as never),
      TypeError,
      /a boolean for views\[0\].flip but received 1/,
    ],
    [
      'dx fraction',
      () => augment(img, shape, [{ dx: 0.5 }]),
      RangeError,
      /integer .* for views\[0\].dx but received 0.5/,
    ],
    ['dy huge', () => augment(img, shape, [{}, { dy: 2 ** 40 }]), RangeError, /for views\[1\].dy/],
    ['dx NaN', () => augment(img, shape, [{ dx: NaN }]), RangeError, /for views\[0\].dx but received NaN/],
    [
      'unknown view key',
      () => augment(img, shape, [{ rotation: 90 }] as never),
      TypeError,
      /only the keys flip, vflip, rotate, crop, zoom, dx, dy for views\[0\] but received 'rotation'/,
    ],
    ['vflip type', () => augment(img, shape, [{ vflip: 'yes' }] as never), TypeError, /a boolean for views\[0\].vflip/],
    [
      'rotate value',
      () => augment(img, shape, [{ rotate: 45 }] as never),
      RangeError,
      /one of 0, 90, 180, 270 \(degrees counter-clockwise\) for views\[0\].rotate but received 45/,
    ],
    [
      'rotate 90 on a non-square output',
      () => augment(img, shape, [{ rotate: 90 }], { outputShape: [4, 2] }),
      RangeError,
      /0 or 180 for the non-square output 4x2 \(90 and 270 need outputShape with height === width\) for views\[0\].rotate but received 90/,
    ],
    [
      'rotate 270 on a non-square image',
      () => augment(new Float32Array(24), [1, 2, 4, 3], [{ rotate: 270 }]),
      RangeError,
      /non-square output 2x4 .* for views\[0\].rotate but received 270/,
    ],
    [
      'zoom zero',
      () => augment(img, shape, [{ zoom: 0 }]),
      RangeError,
      /between 0.001 and 1000 for views\[0\].zoom but received 0/,
    ],
    ['zoom NaN', () => augment(img, shape, [{ zoom: NaN }]), RangeError, /for views\[0\].zoom but received NaN/],
    [
      'zoom string',
      () => augment(img, shape, [{ zoom: '2' }] as never),
      RangeError,
      /for views\[0\].zoom but received '2'/,
    ],
    [
      'crop not object',
      () => augment(img, shape, [{ crop: 'center' }] as never),
      TypeError,
      /\{ top, left, height, width \} or \{ position: 'center' \| .* size \} for views\[0\].crop but received 'center'/,
    ],
    [
      'crop outside the image',
      () => augment(img, shape, [{ crop: { top: 1, left: 0, height: 4, width: 2 } }]),
      RangeError,
      /a box inside the 4x4 image \(top \+ height <= 4, left \+ width <= 4\) for views\[0\].crop but received \{ top: 1, left: 0, height: 4, width: 2 \}/,
    ],
    [
      'crop negative',
      () => augment(img, shape, [{ crop: { top: -1, left: 0, height: 2, width: 2 } }]),
      RangeError,
      /integer >= 0 for views\[0\].crop.top but received -1/,
    ],
    [
      'crop empty',
      () => augment(img, shape, [{ crop: { top: 0, left: 0, height: 0, width: 2 } }]),
      RangeError,
      /integer >= 1 for views\[0\].crop.height but received 0/,
    ],
    [
      'crop missing width',
      () => augment(img, shape, [{ crop: { top: 0, left: 0, height: 2 } }] as never),
      RangeError,
      /for views\[0\].crop.width but received undefined/,
    ],
    [
      'named crop position',
      () => augment(img, shape, [{ crop: { position: 'middle', size: 2 } }] as never),
      TypeError,
      /one of 'center', 'top-left', 'top-right', 'bottom-left', 'bottom-right' for views\[0\].crop.position but received 'middle'/,
    ],
    [
      'named crop too large',
      () => augment(img, shape, [{ crop: { position: 'center', size: [2, 5] } }]),
      RangeError,
      /at most the image's 4x4 for views\[0\].crop.size but received 2x5/,
    ],
    [
      'named crop size',
      () => augment(img, shape, [{ crop: { position: 'top-left', size: 1.5 } }]),
      RangeError,
      /integer >= 1 for views\[0\].crop.size but received 1.5/,
    ],
    [
      'named crop size triple',
      () => augment(img, shape, [{ crop: { position: 'top-left', size: [1, 2, 3] } }] as never),
      TypeError,
      /an integer or \[height, width\] for views\[0\].crop.size/,
    ],
    [
      'outputShape',
      () => augment(img, shape, [{}], { outputShape: [4] as never }),
      TypeError,
      /an array of 2 integers \[height, width\] for options.outputShape/,
    ],
    [
      'outputShape zero',
      () => augment(img, shape, [{}], { outputShape: [0, 4] }),
      RangeError,
      /integer >= 1 for options.outputShape\[0\] \(height\) but received 0/,
    ],
    [
      'out size with outputShape',
      () => augment(img, shape, [{}], { outputShape: [2, 2], out: new Float32Array(96) }),
      RangeError,
      /Float32Array of length 24 for options.out but received Float32Array of length 96/,
    ],
    [
      'fill',
      () => augment(img, shape, [{}], { fill: 'mirror' as never }),
      TypeError,
      /one of 'constant', 'nearest', 'reflect', 'wrap' for options.fill but received 'mirror'/,
    ],
    [
      'cval',
      () => augment(img, shape, [{}], { cval: Infinity }),
      TypeError,
      /finite number for options.cval but received Infinity/,
    ],
    ['scale', () => augment(img, shape, [{}], { scale: '1' as never }), TypeError, /for options.scale/],
    [
      'scale per channel length',
      () => augment(img, shape, [{}], { scale: [1, 2] }),
      RangeError,
      /Expected 3 values \(one per channel\) for options.scale but received Array of length 2/,
    ],
    [
      'scale per channel NaN',
      () => augment(img, shape, [{}], { scale: [1, NaN, 2] }),
      TypeError,
      /a finite float32 number for options.scale\[1\] but received NaN/,
    ],
    [
      'scale beyond float32',
      () => augment(img, shape, [{}], { scale: 1e39 }),
      TypeError,
      /a finite float32 number or 3 of them \(one per channel\) for options.scale but received 1e\+39/,
    ],
    [
      'offset',
      () => augment(img, shape, [{}], { offset: { k: 1 } as never }),
      TypeError,
      /a finite float32 number or 3 of them \(one per channel\) for options.offset but received Object object/,
    ],
    [
      'offset string',
      () => augment(img, shape, [{}], { offset: 'abc' as never }),
      TypeError,
      /for options.offset but received 'abc'/,
    ],
    [
      'offset element',
      () => augment(img, shape, [{}], { offset: [0, 0, '1'] as never }),
      TypeError,
      /for options.offset\[2\] but received '1' of type string/,
    ],
    [
      'reverseChannels',
      () => augment(img, shape, [{}], { reverseChannels: 'yes' as never }),
      TypeError,
      /a boolean for options.reverseChannels but received 'yes'/,
    ],
    [
      'out kind',
      () => augment(img, shape, [{}], { out: new Float64Array(96) as never }),
      TypeError,
      /a Float32Array for options.out but received Float64Array/,
    ],
    [
      'out size',
      () => augment(img, shape, [{}, {}], { out: new Float32Array(96) }),
      RangeError,
      /Float32Array of length 192 for options.out but received Float32Array of length 96/,
    ],
    [
      'out overlap',
      () => {
        const buffer = new Float32Array(96 * 2);
        return augment(buffer.subarray(0, 96), shape, [{}], { out: buffer.subarray(50, 146) });
      },
      RangeError,
      /does not overlap images for options.out/,
    ],
    [
      'threads',
      () => augment(img, shape, [{}], { threads: 0 }),
      RangeError,
      /between 1 and 1024 for options.threads but received 0/,
    ],
    [
      'options',
      () => augment(img, shape, [{}], 'fast' as never),
      TypeError,
      /an object for options but received 'fast'/,
    ],
  ];
  test.each(cases)('%s', (_name, call, kind, pattern) => expectError(call, kind, pattern));

  test('the reference validates the same way (shared code)', () => {
    expectError(() => augmentReference(img, shape, []), TypeError, /for views/);
    expectError(() => augmentReference(img, shape, [{ dx: 1.5 }]), RangeError, /views\[0\].dx/);
    expectError(() => augmentReference(img, [2, 4, 4, 4], [{}]), RangeError, /for images/);
  });

  test('augmentAsync rejects the same way', async () => {
    await expect(augmentAsync(img, shape, [{}], { fill: 'x' as never })).rejects.toThrow(/options.fill/);
  });
});

describe('softVote rejects bad input, naming the parameter', () => {
  const cases: [string, Call, typeof TypeError | typeof RangeError, RegExp][] = [
    [
      'predictions kind',
      () => softVote(new Float64Array(30) as never, pshape),
      TypeError,
      /a Float32Array for predictions but received Float64Array of length 30/,
    ],
    [
      'shape',
      () => softVote(preds, [3, 10] as never),
      TypeError,
      /array of 3 integers \[views, n, classes\] for shape/,
    ],
    [
      'zero views',
      () => softVote(new Float32Array(0), [0, 2, 5]),
      RangeError,
      /integer >= 1 for shape\[0\] \(views\) but received 0/,
    ],
    [
      'length',
      () => softVote(preds, [3, 2, 4]),
      RangeError,
      /length 24 .* for predictions but received Float32Array of length 30/,
    ],
    [
      'merge',
      () => softVote(preds, pshape, { merge: 'median' as never }),
      TypeError,
      /one of 'mean', 'sum', 'gmean', 'max', 'vote' for options.merge but received 'median'/,
    ],
    [
      'weights length',
      () => softVote(preds, pshape, { weights: [1, 1] }),
      RangeError,
      /3 weights \(one per view\) for options.weights but received Array of length 2/,
    ],
    [
      'weights negative',
      () => softVote(preds, pshape, { weights: [1, -1, 1] }),
      RangeError,
      /finite number >= 0 for options.weights\[1\] but received -1/,
    ],
    [
      'weights NaN',
      () => softVote(preds, pshape, { weights: [1, NaN, 1] }),
      RangeError,
      /options.weights\[1\] but received NaN/,
    ],
    [
      'weights zero',
      () => softVote(preds, pshape, { weights: [0, 0, 0] }),
      RangeError,
      /at least one weight above 0 for options.weights/,
    ],
    [
      'weights kind',
      () => softVote(preds, pshape, { weights: 'abc' as never }),
      TypeError,
      /for options.weights but received 'abc'/,
    ],
    [
      'out size',
      () => softVote(preds, pshape, { out: new Float32Array(9) }),
      RangeError,
      /length 10 for options.out but received Float32Array of length 9/,
    ],
    [
      'labels kind',
      () => softVote(preds, pshape, { labels: new Uint32Array(2) as never }),
      TypeError,
      /an Int32Array for options.labels but received Uint32Array/,
    ],
    [
      'out overlaps predictions',
      () => softVote(preds, pshape, { out: preds.subarray(0, 10) }),
      RangeError,
      /does not overlap predictions for options.out/,
    ],
    [
      'labels overlap out',
      () => {
        const shared = new ArrayBuffer(48);
        return softVote(preds, pshape, { out: new Float32Array(shared, 0, 10), labels: new Int32Array(shared, 32, 2) });
      },
      RangeError,
      /does not overlap options.out for options.labels/,
    ],
    ['threads', () => softVote(preds, pshape, { threads: 2.5 }), RangeError, /options.threads but received 2.5/],
  ];
  test.each(cases)('%s', (_name, call, kind, pattern) => expectError(call, kind, pattern));

  test('NaN, infinity, and negative values for gmean name the index, view, image and class', async () => {
    const bad = preds.slice();
    bad[17] = NaN;
    expectError(
      () => softVote(bad, pshape),
      RangeError,
      /finite probabilities for predictions but received NaN of type number at index 17 \(view 1, image 1, class 2\)/,
    );
    expectError(() => softVoteReference(bad, pshape), RangeError, /at index 17 \(view 1, image 1, class 2\)/);
    await expect(softVoteAsync(bad, pshape, { merge: 'max' })).rejects.toThrow(/at index 17/);
    const inf = preds.slice();
    inf[3] = -Infinity;
    expectError(() => softVote(inf, pshape, { merge: 'vote' }), RangeError, /received -Infinity .* at index 3/);
    const negative = preds.slice();
    negative[29] = -0.5;
    expect(() => softVote(negative, pshape)).not.toThrow();
    expectError(
      () => softVote(negative, pshape, { merge: 'gmean' }),
      RangeError,
      /non-negative probabilities \(merge 'gmean'\) .* received -0.5 .* at index 29/,
    );
  });

  test('when several values are bad, the first is named whatever the thread count', () => {
    const big = new Float32Array(4 * 5000 * 10).fill(0.1);
    big[123457] = NaN;
    big[300000] = NaN;
    big[99999] = Infinity;
    expectError(() => softVote(big, [4, 5000, 10], { threads: 4 }), RangeError, /at index 99999/);
  });
});

describe('the addon re-checks what protects memory (never crashes)', () => {
  // (flip, vflip, quarterTurns, dx, dy, cropTop, cropLeft, cropHeight, cropWidth, zoom)
  const views = Float64Array.from([0, 0, 0, 0, 0, 0, 0, 4, 4, 1]);
  const view = (...fields: [number, number][]): Float64Array => {
    const record = Float64Array.from(views);
    for (const [i, value] of fields) record[i] = value;
    return record;
  };
  const sc = new Float32Array(3).fill(1);
  const of = new Float32Array(3);
  test.each([
    [
      'short images',
      () =>
        binding.augment(new Float32Array(10), 2, 4, 4, 3, 4, 4, views, 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    ['short out', () => binding.augment(img, 2, 4, 4, 3, 4, 4, views, 1, 0, sc, of, false, new Float32Array(95), 1)],
    [
      'wrong kind',
      () =>
        binding.augment(
          new Int8Array(96) as never,
          2,
          4,
          4,
          3,
          4,
          4,
          views,
          1,
          0,
          sc,
          of,
          false,
          new Float32Array(96),
          1,
        ),
    ],
    [
      'views not records',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, views.subarray(1), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'views kind',
      () =>
        binding.augment(
          img,
          2,
          4,
          4,
          3,
          4,
          4,
          new Int32Array(10) as never,
          1,
          0,
          sc,
          of,
          false,
          new Float32Array(96),
          1,
        ),
    ],
    [
      'crop below the image',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([5, 1]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'crop right of the image',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([6, 1], [8, 4]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'crop negative',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([6, -1]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'crop empty',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([7, 0]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'crop fraction',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([7, 3.5]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'crop NaN',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([8, NaN]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'zoom NaN',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([9, NaN]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'zoom zero',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([9, 0]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'quarter turns',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([2, 4]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'shift huge',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, view([3, 2 ** 40]), 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    [
      'rotation on a non-square output',
      () => binding.augment(img, 2, 4, 4, 3, 4, 2, view([2, 1]), 1, 0, sc, of, false, new Float32Array(48), 1),
    ],
    [
      'out length for the output shape',
      () => binding.augment(img, 2, 4, 4, 3, 2, 2, views, 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    ['output height', () => binding.augment(img, 2, 4, 4, 3, 0, 4, views, 1, 0, sc, of, false, new Float32Array(0), 1)],
    ['fill code', () => binding.augment(img, 2, 4, 4, 3, 4, 4, views, 7, 0, sc, of, false, new Float32Array(96), 1)],
    [
      'overflow',
      () => binding.augment(img, 2 ** 40, 2 ** 40, 4, 3, 4, 4, views, 1, 0, sc, of, false, new Float32Array(96), 1),
    ],
    ['overlap', () => binding.augment(img, 2, 4, 4, 3, 4, 4, views, 1, 0, sc, of, false, img, 1)],
    ['argument count', () => (binding.augment as unknown as (...a: unknown[]) => void)(img)],
    [
      'short scale',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, views, 1, 0, sc.subarray(1), of, false, new Float32Array(96), 1),
    ],
    [
      'offset kind',
      () =>
        binding.augment(
          img,
          2,
          4,
          4,
          3,
          4,
          4,
          views,
          1,
          0,
          sc,
          new Float64Array(3) as never,
          false,
          new Float32Array(96),
          1,
        ),
    ],
    [
      'reverseChannels kind',
      () => binding.augment(img, 2, 4, 4, 3, 4, 4, views, 1, 0, sc, of, 1 as never, new Float32Array(96), 1),
    ],
    [
      'soft vote short',
      () =>
        binding.softVote(preds, 3, 2, 6, 0, new Float64Array([1, 1, 1]), new Float32Array(12), new Int32Array(2), 1),
    ],
    [
      'soft vote weights',
      () => binding.softVote(preds, 3, 2, 5, 0, new Float64Array([1, 1]), new Float32Array(10), new Int32Array(2), 1),
    ],
    [
      'soft vote negative weight',
      () =>
        binding.softVote(preds, 3, 2, 5, 0, new Float64Array([1, -1, 1]), new Float32Array(10), new Int32Array(2), 1),
    ],
    [
      'soft vote labels',
      () =>
        binding.softVote(preds, 3, 2, 5, 0, new Float64Array([1, 1, 1]), new Float32Array(10), new Int32Array(1), 1),
    ],
    [
      'soft vote merge',
      () =>
        binding.softVote(preds, 3, 2, 5, 9, new Float64Array([1, 1, 1]), new Float32Array(10), new Int32Array(2), 1),
    ],
    [
      'soft vote threads',
      () =>
        binding.softVote(preds, 3, 2, 5, 0, new Float64Array([1, 1, 1]), new Float32Array(10), new Int32Array(2), 0),
    ],
  ] as [string, Call][])('%s', (_name, call) => {
    expect(call).toThrow(/native: /);
  });
});
