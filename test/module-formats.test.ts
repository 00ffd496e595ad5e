// @tta/native must be usable from plain Node scripts, CommonJS and ESM alike,
// through its package exports (what users get, not our source tree).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const nativeDir = path.resolve(__dirname, '..', 'native');

describe('@tta/native from plain Node scripts', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tta-formats-'));
    mkdirSync(path.join(dir, 'node_modules', '@tta'), { recursive: true });
    symlinkSync(nativeDir, path.join(dir, 'node_modules', '@tta', 'native'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const body = `
    const images = new Uint8Array([0, 255, 51, 102]);
    const out = augment(images, [1, 1, 4, 1], [{ flip: true }], { scale: 1 / 255 });
    const { labels } = softVote(new Float32Array([0.2, 0.8, 0.6, 0.4]), [2, 1, 2]);
    console.log(JSON.stringify({ out: Array.from(out, (v) => Math.round(v * 255)), label: labels[0] }));`;

  test.each([
    ['ESM', 'check.mjs', `import { augment, softVote } from '@tta/native';${body}`],
    ['CommonJS', 'check.cjs', `const { augment, softVote } = require('@tta/native');${body}`],
  ])('%s', (_kind, file, source) => {
    writeFileSync(path.join(dir, file), source);
    const output = execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ out: [102, 51, 255, 0], label: 1 });
  });

  test('the reference entry point resolves through the exports map', () => {
    writeFileSync(path.join(dir, 'ref.cjs'), "console.log(typeof require('@tta/native/reference').augmentReference)");
    expect(execFileSync(process.execPath, ['ref.cjs'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('function');
  });
});
