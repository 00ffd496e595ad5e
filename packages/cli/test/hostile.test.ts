// What a careless or hostile user does: output paths that cannot be written, a cache that is
// a file, runs killed in the middle of writing. Each must fail early with one line naming the
// flag, or recover, and never show a stack trace.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, runCli, tempDir, writeSyntheticCifar } from './helpers';

function noStack(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toMatch(/internal error/);
}

/** Every file or folder under `dir` whose name marks it as a temporary or aside copy. */
function debris(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => /(^|\/)\.[^/]*\.(tmp|old)-/.test(p));
}

let data: string;
beforeAll(() => {
  data = writeSyntheticCifar(path.join(tempDir('hostile'), 'cifar-10-batches-bin'), 40, 50);
});

const quick = () => ['--data', data, '--no-verify', '--epochs', '1', '--batch-size', '50', '--quiet'];

describe('output paths are checked before the work starts', () => {
  test.each([
    [['--json', '/proc/tta-x'], /--json \/proc\/tta-x cannot be written/],
    [['--json', '@DIR'], /--json .* is a folder; give a file name/],
    [['--html', '@DIR'], /--html .* is a folder; give a file name/],
    [['--json', '@FILE/x.json'], /--json .*x\.json cannot be written: a part of the path is a file/],
  ])(
    'eval %j: one line naming the flag, before any training',
    async (flags, message) => {
      const dir = tempDir('out');
      const file = path.join(dir, 'a-file');
      fs.writeFileSync(file, '');
      const args = (flags as string[]).map((f) => f.replace('@DIR', dir).replace('@FILE', file));
      const cache = tempDir('cache');
      const started = Date.now();
      const r = await runCli(['eval', ...quick(), '--cache-dir', cache, ...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message as RegExp);
      noStack(r.stderr);
      // Nothing was trained: the cache has no model.
      expect(fs.existsSync(path.join(cache, 'models'))).toBe(false);
      expect(Date.now() - started).toBeLessThan(60_000);
    },
    60_000,
  );

  test('tune --out and train --out are checked too', async () => {
    const dir = tempDir('out2');
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    const tune = await runCli(['tune', ...quick(), '--out', dir]);
    expect(tune.stderr).toMatch(/--out .* is a folder; give a file name/);
    const train = await runCli(['train', ...quick(), '--out', file]);
    expect(train.stderr).toMatch(/--out .*file is a file; a model is saved as a folder/);
    for (const r of [tune, train]) {
      expect(r.code).not.toBe(0);
      noStack(r.stderr);
    }
  }, 60_000);

  test('TTA_CACHE_DIR (or --cache-dir) that is a file: one line naming it', async () => {
    const file = path.join(tempDir('cachefile'), 'passwd');
    fs.writeFileSync(file, 'root:x:0:0');
    const viaEnv = await runCli(['train', ...quick(), '--out', path.join(tempDir('m'), 'm')], {
      env: { TTA_CACHE_DIR: file },
    });
    expect(viaEnv.stderr).toMatch(/^tta train: TTA_CACHE_DIR .*passwd cannot be used as a folder/);
    const viaFlag = await runCli(['eval', ...quick(), '--cache-dir', file]);
    expect(viaFlag.stderr).toMatch(/--cache-dir .*passwd cannot be used as a folder/);
    for (const r of [viaEnv, viaFlag]) {
      expect(r.code).not.toBe(0);
      noStack(r.stderr);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('root:x:0:0');
  }, 60_000);

  test('--debug (or TTA_DEBUG=1) shows the stack of the same error', async () => {
    const dir = tempDir('debug');
    const r = await runCli(['eval', ...quick(), '--json', dir, '--debug']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is a folder[\s\S]*\n\s+at /);
  }, 60_000);
});

describe('killed runs leave no debris behind for long', () => {
  test('SIGKILL at several moments of a model save, then a run that succeeds and leaves no debris', async () => {
    const out = path.join(tempDir('kill'), 'model');
    const cache = tempDir('killcache');
    const parent = path.dirname(out);
    const left: number[] = [];
    for (const delayMs of [0, 1, 3, 8]) {
      // Kill the process as soon as (or just after) its temporary model folder appears.
      await new Promise<void>((resolve) => {
        const child = spawn(
          process.execPath,
          [BIN, 'train', ...quick(), '--no-cache', '--cache-dir', cache, '--out', out],
          {
            env: { ...process.env, CI: 'true' },
            stdio: 'ignore',
          },
        );
        const watcher = fs.watch(parent, (_event, name) => {
          if (name && String(name).startsWith('.model.tmp-')) {
            watcher.close();
            setTimeout(() => child.kill('SIGKILL'), delayMs);
          }
        });
        child.on('exit', () => {
          watcher.close();
          resolve();
        });
      });
      left.push(debris(parent).length);
    }
    // At least one kill landed inside the save (else this test would test nothing).
    expect(left.some((n) => n > 0)).toBe(true);
    const after = await runCli(['train', ...quick(), '--no-cache', '--cache-dir', cache, '--out', out]);
    expect(after.code).toBe(0);
    expect(fs.existsSync(path.join(out, 'model.json'))).toBe(true);
    expect(debris(parent)).toEqual([]);
    expect(debris(cache)).toEqual([]);
  }, 240_000);

  test('debris of dead runs in the cache is removed by the next run; tta cache lists and cleans', async () => {
    const cache = tempDir('debris');
    const models = path.join(cache, 'models');
    fs.mkdirSync(models, { recursive: true });
    // PID 1 is alive (init) and a day-old entry goes anyway; a PID that cannot exist is dead.
    const dead = path.join(models, '.reference-cnn-abc.tmp-4194305-0123abcd');
    const old = path.join(models, '.reference-cnn-abc.old-1-89abcdef');
    fs.mkdirSync(dead);
    fs.writeFileSync(path.join(dead, 'weights.bin'), Buffer.alloc(1024));
    fs.mkdirSync(old);
    const dayAgo = Date.now() / 1000 - 25 * 3600;
    fs.utimesSync(old, dayAgo, dayAgo);
    const list = await runCli(['cache', 'list', '--cache-dir', cache, '--json', '-']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).entries.map((e: { kind: string }) => e.kind)).toEqual(['debris', 'debris']);
    const r = await runCli(['eval', ...quick(), '--cache-dir', cache, '--policies', 'none']);
    expect(r.code).toBe(0);
    expect(debris(cache)).toEqual([]);
    const entries = JSON.parse((await runCli(['cache', 'list', '--cache-dir', cache, '--json', '-'])).stdout).entries;
    expect(entries.map((e: { kind: string }) => e.kind)).toEqual(['model']);
    const clean = await runCli(['cache', 'clean', '--cache-dir', cache]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/removed 1 entry/);
    expect(fs.readdirSync(models)).toEqual([]);
    const usage = await runCli(['cache', 'scrub', '--cache-dir', cache]);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toMatch(/tta cache takes 'list' or 'clean'/);
  }, 120_000);
});
