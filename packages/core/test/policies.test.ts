import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  formatViews,
  loadPolicyFile,
  makePolicy,
  nominalViews,
  forwardPasses,
  parseViewSpec,
  policyFromJson,
  policyToJson,
  resolvePolicy,
  type Policy,
} from '../src/policies';

describe('policies', () => {
  test('named policies', () => {
    expect(formatViews(makePolicy('none').views)).toBe('id');
    expect(formatViews(makePolicy('flip').views)).toBe('id,flip');
    expect(formatViews(makePolicy('flip-shift', { shift: 3 }).views)).toBe(
      'id,flip,dx=3,dx=-3,dy=3,dy=-3,flip+dx=3,flip+dx=-3,flip+dy=3,flip+dy=-3',
    );
    const random = makePolicy('keras-random', { views: 9, seed: 4 });
    expect(nominalViews(random)).toBe(9);
    expect(forwardPasses(random)).toBe(2);
  });

  test('view specs', () => {
    expect(parseViewSpec('id,flip,dx=2,dy=-1,flip+dx=-2')).toEqual([
      { flip: false, dx: 0, dy: 0 },
      { flip: true, dx: 0, dy: 0 },
      { flip: false, dx: 2, dy: 0 },
      { flip: false, dx: 0, dy: -1 },
      { flip: true, dx: -2, dy: 0 },
    ]);
    expect(resolvePolicy('id,flip+dy=3', { merge: 'max' }).merge).toBe('max');
    expect(() => parseViewSpec('id,rotate')).toThrow(/for views\[1\] but received 'rotate'/);
    expect(() => parseViewSpec('dx=1.5')).toThrow(/views\[0\]/);
  });

  test('vflip, rot, zoom and crop parts, combinable with +, formatted back in the order they apply', () => {
    const spec =
      'vflip,rot=90,zoom=1.1,crop=center:224,crop=top-left:200x180+flip,crop=8:16:224:224+zoom=0.9+rot=270+dx=2,crop=center';
    const views = parseViewSpec(spec);
    expect(views).toEqual([
      { flip: false, vflip: true, dx: 0, dy: 0 },
      { flip: false, rotate: 90, dx: 0, dy: 0 },
      { flip: false, zoom: 1.1, dx: 0, dy: 0 },
      { flip: false, crop: { position: 'center', size: 224 }, dx: 0, dy: 0 },
      { flip: true, crop: { position: 'top-left', size: [200, 180] }, dx: 0, dy: 0 },
      { flip: false, crop: { top: 8, left: 16, height: 224, width: 224 }, zoom: 0.9, rotate: 270, dx: 2, dy: 0 },
      { flip: false, crop: { position: 'center' }, dx: 0, dy: 0 },
    ]);
    expect(formatViews(views)).toBe(spec);
    expect(formatViews(parseViewSpec('rot=90+flip+zoom=2+crop=center:8'))).toBe('crop=center:8+zoom=2+flip+rot=90');
    expect(parseViewSpec('rot=0+zoom=1,hflip')).toEqual([
      { flip: false, dx: 0, dy: 0 },
      { flip: true, dx: 0, dy: 0 },
    ]);
    expect(resolvePolicy('rot=90,vflip').views).toHaveLength(2);
    expect(resolvePolicy('crop=center:24+flip').name).toBe('crop=center:24+flip');
    expect(() => parseViewSpec('rot=45')).toThrow(/one of 0, 90, 180, 270 for views\[0\] rot but received 45/);
    expect(() => parseViewSpec('id,zoom=0')).toThrow(
      /zoom factor between 0.001 and 1000 for views\[1\] zoom but received 0/,
    );
    expect(() => parseViewSpec('zoom=big')).toThrow(/'zoom=F'.* for views\[0\] but received 'zoom=big'/);
    expect(() => parseViewSpec('crop=middle:224')).toThrow(
      /'crop=POSITION\[:SIZE\]'.* for views\[0\] but received 'crop=middle:224'/,
    );
    expect(() => parseViewSpec('crop=center:0')).toThrow(/at least 1 pixel for views\[0\] crop size but received '0'/);
    expect(() => parseViewSpec('crop=1:2:3')).toThrow(/for views\[0\] but received 'crop=1:2:3'/);
  });

  test('presets: d4, five-crop, ten-crop, multiscale', () => {
    expect(formatViews(makePolicy('d4').views)).toBe(
      'id,flip,rot=90,flip+rot=90,rot=180,flip+rot=180,rot=270,flip+rot=270',
    );
    expect(formatViews(makePolicy('five-crop').views)).toBe(
      'crop=center,crop=top-left,crop=top-right,crop=bottom-left,crop=bottom-right',
    );
    const ten = makePolicy('ten-crop', { cropSize: 224 });
    expect(ten.views).toHaveLength(10);
    expect(formatViews(ten.views.slice(4, 6))).toBe('crop=bottom-right:224,crop=center:224+flip');
    expect(formatViews(makePolicy('multiscale').views)).toBe('id,flip,zoom=0.9,zoom=0.9+flip,zoom=1.1,zoom=1.1+flip');
    expect(makePolicy('multiscale', { zooms: [1.2] }).views).toHaveLength(4);
    expect(() => makePolicy('multiscale', { zooms: [0] })).toThrow(/for zooms\[0\] but received 0/);
    expect(() => makePolicy('five-crop', { cropSize: 0 })).toThrow(/for cropSize but received 0/);
    expect(resolvePolicy('d4').views).toHaveLength(8);
  });

  test('unknown names and modes list the valid ones', () => {
    expect(() => makePolicy('zoom')).toThrow(
      /one of none, flip, flip-shift, keras-random, d4, five-crop, ten-crop, multiscale \(or a view spec .*\) for policy but received 'zoom'/,
    );
    expect(() => makePolicy('flip', { merge: 'median' as never })).toThrow(
      /one of mean, sum, gmean, max, vote for merge but received 'median'/,
    );
    expect(() => makePolicy('flip', { fill: 'mirror' as never })).toThrow(
      /one of constant, nearest, reflect, wrap for fill/,
    );
    expect(() => makePolicy('keras-random', { views: 0 })).toThrow(/between 1 and 1024 for views/);
  });

  test('policy file round trip', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tta-policy-'));
    for (const policy of [
      makePolicy('flip-shift', { fill: 'reflect', merge: 'gmean' }),
      makePolicy('keras-random', { seed: 3 }),
      { ...makePolicy('flip'), weights: [2, 1] },
      makePolicy('d4', { merge: 'max' }),
      makePolicy('ten-crop', { cropSize: 24 }),
      makePolicy('five-crop'),
      resolvePolicy('crop=2:3:20:21+zoom=0.8+vflip+rot=180+dy=-1', { fill: 'constant' }),
    ]) {
      const file = path.join(dir, `${policy.name}.json`);
      writeFileSync(file, JSON.stringify(policyToJson(policy)));
      expect(loadPolicyFile(file)).toEqual(policy);
    }
    writeFileSync(path.join(dir, 'bad.json'), '{ nope');
    expect(() => loadPolicyFile(path.join(dir, 'bad.json'))).toThrow(/is not valid JSON/);
    expect(() => loadPolicyFile(path.join(dir, 'missing.json'))).toThrow(/Cannot read the policy file/);
    expect(() => policyFromJson({ views: [] })).toThrow(/policy.views/);
    // Views as objects: the spec fields, crops as spec strings.
    expect(
      policyFromJson({ views: [{}, { flip: true, rotate: 90 }, { crop: 'center:24', zoom: 1.5, vflip: true }] }).views,
    ).toEqual([
      { flip: false, dx: 0, dy: 0 },
      { flip: true, rotate: 90, dx: 0, dy: 0 },
      { flip: false, vflip: true, zoom: 1.5, crop: { position: 'center', size: 24 }, dx: 0, dy: 0 },
    ]);
    expect(() => policyFromJson({ views: [{ rotate: 45 }] })).toThrow(
      /one of 0, 90, 180, 270 for policy.views\[0\].rotate/,
    );
    expect(() => policyFromJson({ views: [{ crop: { top: 1 } }] })).toThrow(
      /a crop spec such as 'center:224' for policy.views\[0\].crop/,
    );
    expect(() => policyFromJson({ views: [{ vflip: 1 }] })).toThrow(/a boolean for policy.views\[0\].vflip/);
    expect(() => policyFromJson({ views: [{ zoom: -1 }] })).toThrow(/for policy.views\[0\].zoom but received -1/);
    expect(() => policyFromJson({ views: 'id,flip', weights: [1] })).toThrow(
      /2 non-negative numbers for policy.weights/,
    );
  });
});

describe('learned merge and temperature in a policy file', () => {
  test('round trip, and bad fields named', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tta-policy-'));
    const policies: Policy[] = [
      { ...makePolicy('flip'), merge: 'learned', learned: { shape: 'view', weights: [0.7, 0.3] }, temperature: 1.4 },
      {
        ...makePolicy('flip'),
        merge: 'learned',
        learned: { shape: 'view-class', weights: [0.1, 0.9, 0.5, 0.9, 0.1, 0.5] },
        gate: { margin: 0.3 },
      },
      { ...makePolicy('flip-shift'), temperature: 0.8 },
    ];
    for (const [i, policy] of policies.entries()) {
      const file = path.join(dir, `${i}.json`);
      writeFileSync(file, JSON.stringify(policyToJson(policy)));
      expect(loadPolicyFile(file)).toEqual(policy);
    }
    expect(() => policyFromJson({ views: 'id,flip', merge: 'learned' })).toThrow(/policy.learned/);
    expect(() =>
      policyFromJson({ views: 'id,flip', merge: 'learned', learned: { shape: 'view', weights: [1] } }),
    ).toThrow(/2 weights \(one per view\) for policy.learned.weights/);
    expect(() => policyFromJson({ views: 'id,flip', learned: { shape: 'view', weights: [1, 0] } })).toThrow(
      /only with merge 'learned'/,
    );
    expect(() => policyFromJson({ views: 'id,flip', temperature: -1 })).toThrow(/policy.temperature/);
    expect(() => policyFromJson({ views: 'id,flip', merge: 'median' })).toThrow(/learned/);
  });
});
