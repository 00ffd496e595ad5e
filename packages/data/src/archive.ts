// Unpacks the official .tar.gz by streaming it through node-tar (no `tar`
// process), keeping only the dataset's folder. Into a fresh temporary folder, so
// a half-unpacked archive is never mistaken for a dataset.
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { temporaryPath } from '@tta/util';
import { DataError } from './errors';
import type { CifarSpec } from './spec';

/**
 * Extracts `archive` into a new temporary folder beside `destination` and
 * returns that folder; the dataset files are in `<folder>/<spec.directoryName>`.
 * The caller renames it into place once the files check out.
 */
export async function extractToTemporary(
  archive: string,
  destination: string,
  spec: CifarSpec,
  onBytes?: (done: number, total: number) => void,
): Promise<string> {
  const total = (await fs.promises.stat(archive)).size;
  await fs.promises.mkdir(path.dirname(destination), { recursive: true });
  const temporary = temporaryPath(destination);
  await fs.promises.mkdir(temporary);
  let done = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      onBytes?.(done, total);
      callback(null, chunk);
    },
  });
  const prefix = `${spec.directoryName}/`;
  const dataDir = path.join(temporary, spec.directoryName);
  await fs.promises.mkdir(dataDir);
  // Entries are gathered in memory (the dataset is loaded into memory next
  // anyway) and written only once the whole archive has been read: a corrupt
  // or cut-off archive then leaves no file half-written, and nothing outside
  // the dataset folder is ever created.
  const contents = new Map<string, Buffer[]>();
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (entry) => {
      const name = entry.path.replace(/^\.\//, '');
      const base = name.startsWith(prefix) ? name.slice(prefix.length) : '';
      if (entry.type !== 'File' || !/^[A-Za-z0-9_.-]+$/.test(base) || base.startsWith('.')) {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      contents.set(base, chunks);
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
    },
  });
  try {
    await pipeline(fs.createReadStream(archive, { highWaterMark: 1 << 20 }), counter, parser);
  } catch (error) {
    await fs.promises.rm(temporary, { recursive: true, force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(
      'TTA_DATA_CORRUPT_ARCHIVE',
      `${archive} is not a readable ${spec.title} archive (.tar.gz): ${reason}. Delete it and download ${spec.archiveName} again.`,
      {
        file: archive,
        cause: error,
      },
    );
  }
  const entries = contents.size;
  try {
    for (const [base, chunks] of contents) await fs.promises.writeFile(path.join(dataDir, base), chunks);
  } catch (error) {
    await fs.promises.rm(temporary, { recursive: true, force: true });
    throw error;
  }
  if (entries === 0) {
    await fs.promises.rm(temporary, { recursive: true, force: true });
    throw new DataError(
      'TTA_DATA_CORRUPT_ARCHIVE',
      `${archive} holds no ${prefix} folder, so it is not the official ${spec.archiveName}`,
      { file: archive },
    );
  }
  return temporary;
}

/**
 * Moves a finished folder into place. If another process got there first, its
 * copy is kept and ours removed.
 */
export async function moveIntoPlace(from: string, to: string): Promise<void> {
  try {
    await fs.promises.rename(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
    await fs.promises.rm(from, { recursive: true, force: true });
  }
}
