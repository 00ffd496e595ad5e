import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDebrisName, removeDebris, replaceDirectory, temporaryPath, temporarySibling, writeFileAtomic } from '../src';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tta-util-fs-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A PID that belonged to a process which has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('writeFileAtomic replaces the file whole and leaves no temporary file', () => {
  const file = path.join(dir, 'out.json');
  writeFileAtomic(file, 'old');
  writeFileAtomic(file, new Uint8Array([110, 101, 119]));
  expect(fs.readFileSync(file, 'utf8')).toBe('new');
  expect(fs.readdirSync(dir)).toEqual(['out.json']);
});

test('a failed atomic write keeps the old file and removes its temporary file', () => {
  const target = path.join(dir, 'folder');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'keep'), 'x');
  expect(() => writeFileAtomic(target, 'text')).toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
  expect(fs.readdirSync(dir)).toEqual(['folder']);
});

test('temporary names carry the PID and are recognised as debris', () => {
  const name = path.basename(temporaryPath(path.join(dir, 'model')));
  expect(name).toMatch(new RegExp(`^\\.model\\.tmp-${process.pid}-[0-9a-f]{8}$`));
  expect(isDebrisName(name)).toBe(true);
  expect(isDebrisName('model')).toBe(false);
  expect(isDebrisName('.model.tmp-XYZ')).toBe(false);
});

test('replaceDirectory swaps a folder in, over an existing one', () => {
  const target = path.join(dir, 'model');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'v'), '1');
  const next = temporarySibling(target);
  fs.writeFileSync(path.join(next, 'v'), '2');
  replaceDirectory(next, target);
  expect(fs.readFileSync(path.join(target, 'v'), 'utf8')).toBe('2');
  expect(fs.readdirSync(dir)).toEqual(['model']);
});

test('removeDebris removes what dead processes left and what is too old, and keeps live work', () => {
  const pid = deadPid();
  const dead = path.join(dir, `.model.tmp-${pid}-0123abcd`);
  const deadAside = path.join(dir, `.model.old-${pid}-89abcdef`);
  fs.mkdirSync(dead);
  fs.writeFileSync(path.join(dead, 'weights.bin'), 'x');
  fs.mkdirSync(deadAside);
  const live = temporarySibling(path.join(dir, 'other'));
  const old = path.join(dir, `.cache.json.tmp-${process.pid}-00000000`);
  fs.writeFileSync(old, '{}');
  const hours = Date.now() / 1000 - 48 * 3600;
  fs.utimesSync(old, hours, hours);
  fs.writeFileSync(path.join(dir, 'model'), 'not debris');
  const removed = removeDebris(dir).sort();
  expect(removed).toEqual([old, deadAside, dead].sort());
  expect(fs.readdirSync(dir).sort()).toEqual([path.basename(live), 'model'].sort());
  expect(removeDebris(path.join(dir, 'missing'))).toEqual([]);
});

test('removeDebris can be limited to some targets', () => {
  const pid = deadPid();
  fs.mkdirSync(path.join(dir, `.a.tmp-${pid}-00000000`));
  fs.mkdirSync(path.join(dir, `.b.tmp-${pid}-00000000`));
  expect(removeDebris(dir, { filter: (target) => target === 'a' }).map((f) => path.basename(f))).toEqual([
    `.a.tmp-${pid}-00000000`,
  ]);
});
