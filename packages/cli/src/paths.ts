// Every path the user gives for output is checked before the long work starts: a run must
// not compute for minutes and then lose its results to a typo. The check writes and removes
// a temporary file where the real one will be written, which is the only test that knows
// about read-only mounts, /proc and permissions.
import fs from 'node:fs';
import path from 'node:path';
import { TtaError, errorMessage, temporaryPath, writeFileAtomic } from '@tta/util';
import { defaultCacheDir } from '@tta/data';
import { UserError } from './errors';

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a part of the path is a file, not a folder';
    case 'ENOENT':
      return 'the folder cannot be created there';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return errorMessage(error);
  }
}

/** Checks that `file` can be written (its folder created if needed); `what` names it in errors, e.g. '--json'. */
export function checkWritableFile(what: string, file: string): string {
  if (file.trim() === '') throw new UserError(`${what} needs a file name`);
  const target = path.resolve(file);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(target);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new UserError(`${what} ${file} is a folder; give a file name`);
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const probe = temporaryPath(target);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (error) {
    throw new UserError(`${what} ${file} cannot be written: ${reason(error)}`);
  }
  return target;
}

/** Checks that `dir` is (or can become) a writable folder; `what` names it in errors, e.g. 'TTA_CACHE_DIR'. */
export function checkWritableDir(what: string, dir: string): string {
  if (dir.trim() === '') throw new UserError(`${what} needs a folder`);
  const target = path.resolve(dir);
  try {
    fs.mkdirSync(target, { recursive: true });
  } catch (error) {
    throw new UserError(`${what} ${dir} cannot be used as a folder: ${reason(error)}`);
  }
  if (!fs.statSync(target).isDirectory()) throw new UserError(`${what} ${dir} is a file, not a folder`);
  try {
    const probe = temporaryPath(path.join(target, 'probe'));
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (error) {
    throw new UserError(`${what} ${dir} is not writable: ${reason(error)}`);
  }
  return target;
}

/**
 * Writes a result file at the end of a run, atomically. If it fails now (the disk filled up, the
 * folder went away), the error names the file and why; the results have been printed already.
 */
export function writeResultFile(what: string, file: string, data: string): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileAtomic(file, data);
  } catch (error) {
    throw new TtaError('TTA_IO', `Could not write ${what} ${file}: ${reason(error)}`, { cause: error });
  }
}

/** Checks the --json and --html targets (and any other named output file) before the work starts. */
export function checkOutputs(targets: Record<string, string | undefined>): void {
  for (const [flag, file] of Object.entries(targets)) {
    if (file === undefined || (flag === 'json' && file === '-')) continue;
    checkWritableFile(`--${flag}`, file);
  }
}

/**
 * Checks the cache folder (--cache-dir, else TTA_CACHE_DIR, else the user cache) before the
 * work starts, naming whichever it came from.
 */
export function checkCacheDir(flag: string | undefined): void {
  if (flag !== undefined) checkWritableDir('--cache-dir', flag);
  else if (process.env.TTA_CACHE_DIR) checkWritableDir('TTA_CACHE_DIR', process.env.TTA_CACHE_DIR);
  else checkWritableDir('The cache folder', defaultCacheDir());
}

/** Checks a model folder target (tta train --out): not a file, and its parent writable. */
export function checkModelTarget(dir: string): void {
  const target = path.resolve(dir);
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new UserError(`--out ${dir} is a file; a model is saved as a folder`);
  checkWritableDir('--out', path.dirname(target));
}
