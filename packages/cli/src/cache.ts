import fs from 'node:fs';
import path from 'node:path';
import { defaultCacheDir } from '@tta/data';
import { isDebrisName, removeDebris } from '@tta/util';
import { parseFlagsAndArguments } from './args';
import { makeOutput, writeJson } from './context';
import { UserError } from './errors';
import { formatTable } from './format';

export const CACHE_HELP = `Usage: tta cache [list | clean] [flags]

What tta keeps in its cache folder: trained models (models/) and downloaded data sets
(datasets/), plus the debris of runs that were killed while writing (temporary folders).
Every run removes the debris of dead runs it finds; 'clean' removes it now.

  list                  what is there, with sizes (default)
  clean                 remove the trained models and the debris (keeps the data sets)
  clean --all           remove everything in the cache, data sets included
  clean --debris        remove only the debris of killed runs
  --cache-dir DIR       the cache (default $TTA_CACHE_DIR or ~/.cache/tta)
  --json [FILE|-]       list as JSON
  -h, --help            this help`;

const FLAGS = {
  'cache-dir': { type: 'string' },
  all: { type: 'boolean' },
  debris: { type: 'boolean' },
  json: { type: 'string' },
  quiet: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface CacheEntry {
  kind: 'model' | 'dataset' | 'debris';
  path: string;
  bytes: number;
  /** For models tta trained: what it was trained with. */
  description?: string;
  modified: string;
}

function sizeOf(p: string): number {
  const stat = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  return fs.readdirSync(p).reduce((total, name) => total + sizeOf(path.join(p, name)), 0);
}

function describeModel(dir: string): string | undefined {
  try {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
      userDefinedMetadata?: {
        tta?: { architecture?: string; trainOptions?: { epochs?: number }; seed?: number; backend?: string };
      };
    };
    const tta = json.userDefinedMetadata?.tta;
    if (!tta) return undefined;
    return `${tta.architecture ?? '?'}, ${tta.trainOptions?.epochs ?? '?'} epochs, seed ${tta.seed ?? '?'}, trained on ${tta.backend ?? '?'}`;
  } catch {
    return 'unreadable model.json';
  }
}

/** Every entry of the cache's models/ and datasets/ folders. */
export function listCache(root: string): CacheEntry[] {
  const entries: CacheEntry[] = [];
  for (const [folder, kind] of [
    ['models', 'model'],
    ['datasets', 'dataset'],
  ] as const) {
    const dir = path.join(root, folder);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const stat = fs.lstatSync(p);
      const debris = isDebrisName(name);
      const description = !debris && kind === 'model' ? describeModel(p) : undefined;
      entries.push({
        kind: debris ? 'debris' : kind,
        path: p,
        bytes: sizeOf(p),
        ...(description ? { description } : {}),
        modified: stat.mtime.toISOString(),
      });
    }
  }
  return entries;
}

function megabytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

export async function runCache(argv: readonly string[]): Promise<number> {
  const { flags: f, positionals } = parseFlagsAndArguments(argv, FLAGS, 'cache');
  if (f.help) {
    process.stdout.write(`${CACHE_HELP}\n`);
    return 0;
  }
  const [action = 'list', ...extra] = positionals;
  if (extra.length > 0 || (action !== 'list' && action !== 'clean')) {
    throw new UserError(`tta cache takes 'list' or 'clean', got '${positionals.join(' ')}'`);
  }
  if (action === 'list' && (f.all || f.debris)) throw new UserError('--all and --debris go with clean');
  if (f.all && f.debris) throw new UserError('--all and --debris: give one');
  const root = path.resolve(f['cache-dir'] ?? defaultCacheDir());
  const name =
    f['cache-dir'] !== undefined ? '--cache-dir' : process.env.TTA_CACHE_DIR ? 'TTA_CACHE_DIR' : 'the cache folder';
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new UserError(`${name} ${root} is a file, not a folder`);
  const output = makeOutput({ quiet: f.quiet, json: f.json });
  const entries = stat ? listCache(root) : [];
  if (action === 'list') {
    if (f.json !== undefined) writeJson(f.json, { schema: 'tta-cache/1', root, entries });
    output.result(
      `${root}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${megabytes(entries.reduce((a, e) => a + e.bytes, 0))}`,
    );
    if (entries.length > 0) {
      output.result(
        formatTable(
          ['kind', 'size', 'modified', 'path', ''],
          entries.map((e) => [
            e.kind,
            megabytes(e.bytes),
            e.modified.slice(0, 19).replace('T', ' '),
            path.relative(root, e.path),
            e.description ?? '',
          ]),
        ),
      );
    }
    return 0;
  }
  const removed: CacheEntry[] = [];
  for (const entry of entries) {
    if (entry.kind === 'debris' || !(f.all || (!f.debris && entry.kind === 'model'))) continue;
    fs.rmSync(entry.path, { recursive: true, force: true });
    removed.push(entry);
  }
  // Debris goes only when the run that made it is gone: a run writing right now keeps its files.
  const debris = new Set(['models', 'datasets'].flatMap((folder) => removeDebris(path.join(root, folder))));
  removed.push(...entries.filter((e) => e.kind === 'debris' && debris.has(e.path)));
  if (f.json !== undefined) writeJson(f.json, { schema: 'tta-cache/1', root, removed });
  output.result(
    `removed ${removed.length} entr${removed.length === 1 ? 'y' : 'ies'} (${megabytes(removed.reduce((a, e) => a + e.bytes, 0))}) from ${root}`,
  );
  return 0;
}
