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

  test('unknown names and modes list the valid ones', () => {
    expect(() => makePolicy('zoom')).toThrow(
      /one of none, flip, flip-shift, keras-random .* for policy but received 'zoom'/,
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
    ]) {
      const file = path.join(dir, `${policy.name}.json`);
      writeFileSync(file, JSON.stringify(policyToJson(policy)));
      expect(loadPolicyFile(file)).toEqual(policy);
    }
    writeFileSync(path.join(dir, 'bad.json'), '{ nope');
    expect(() => loadPolicyFile(path.join(dir, 'bad.json'))).toThrow(/is not valid JSON/);
    expect(() => loadPolicyFile(path.join(dir, 'missing.json'))).toThrow(/Cannot read the policy file/);
    expect(() => policyFromJson({ views: [] })).toThrow(/policy.views/);
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
