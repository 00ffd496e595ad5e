// Nothing is lost: files and folders are written under a temporary name beside their
// target and renamed into place, so a reader sees the old version or the new one, never
// half of one. Temporary names carry the writer's PID, so debris left by a killed
// process can be recognised and removed by the next run (removeDebris).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const DEBRIS = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]{8}$/;

function sibling(target: string, kind: 'tmp' | 'old'): string {
  const resolved = path.resolve(target);
  return path.join(
    path.dirname(resolved),
    `.${path.basename(resolved)}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

/** A fresh name beside `target` for a temporary file or folder (not created). */
export function temporaryPath(target: string): string {
  return sibling(target, 'tmp');
}

/** Writes `data` to `file` atomically (temporary file in the same folder, fsynced, then renamed). */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const target = path.resolve(file);
  const temporary = temporaryPath(target);
  try {
    // fsync before the rename: after a power cut the target is the old file or the whole new one.
    const fd = fs.openSync(temporary, 'wx');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** A fresh, empty temporary folder beside `dir` (same file system, so the final rename is atomic). */
export function temporarySibling(dir: string): string {
  const temporary = temporaryPath(dir);
  fs.mkdirSync(path.dirname(temporary), { recursive: true });
  fs.mkdirSync(temporary);
  return temporary;
}

/** Renames folder `from` to `to`, replacing an existing `to` (moved aside first, then removed). */
export function replaceDirectory(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
  }
  const aside = sibling(to, 'old');
  fs.renameSync(to, aside);
  try {
    fs.renameSync(from, to);
  } catch (error) {
    fs.renameSync(aside, to);
    throw error;
  }
  fs.rmSync(aside, { recursive: true, force: true });
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DebrisOptions {
  /** Debris older than this is removed even if a process with its PID runs (PIDs are reused). Default 24 hours. */
  maxAgeMs?: number;
  /** Only entries whose target name matches (e.g. model folders). */
  filter?: (target: string) => boolean;
}

/**
 * Removes the temporary files and folders in `dir` that a writer left behind when it was
 * killed: those whose process is gone, or that are older than `maxAgeMs`. Returns their paths.
 */
export function removeDebris(dir: string, options: DebrisOptions = {}): string[] {
  const maxAgeMs = options.maxAgeMs ?? 24 * 3600 * 1000;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = DEBRIS.exec(name);
    if (!match || (options.filter && !options.filter(match[1]!))) continue;
    const file = path.join(dir, name);
    let ageMs: number;
    try {
      ageMs = Date.now() - fs.lstatSync(file).mtimeMs;
    } catch {
      continue;
    }
    if (processIsAlive(Number(match[3])) && ageMs < maxAgeMs) continue;
    fs.rmSync(file, { recursive: true, force: true });
    removed.push(file);
  }
  return removed;
}

/** Whether `name` is a temporary or aside entry that writeFileAtomic, temporarySibling or replaceDirectory made. */
export function isDebrisName(name: string): boolean {
  return DEBRIS.test(name);
}
