// Where datasets are looked for, in order: the `dir` option, TTA_DATA_DIR, then
// the cache. Every place looked at is recorded so a miss can say exactly where.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CifarSpec } from './spec';

/** The tta cache root: TTA_CACHE_DIR, else the platform's user cache folder + /tta. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TTA_CACHE_DIR) return path.resolve(env.TTA_CACHE_DIR);
  const home = os.homedir();
  if (process.platform === 'win32')
    return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'tta', 'cache');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'tta');
  return path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'tta');
}

/** Where datasets live inside a cache root; downloads and extractions go here. */
export function datasetsCacheDir(cacheDir?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir !== undefined ? path.resolve(cacheDir) : defaultCacheDir(env), 'datasets');
}

export type LocationOrigin = 'dir option' | 'TTA_DATA_DIR' | 'cache';

export interface DataLocation {
  /** A folder holding the binary files, or a .tar.gz of the official layout. */
  kind: 'directory' | 'archive';
  path: string;
  origin: LocationOrigin;
}

export interface LookedAt {
  path: string;
  origin: LocationOrigin;
  /** Why nothing was taken from here. */
  reason?: string;
}

export interface SearchResult {
  found: DataLocation | undefined;
  /** Every place looked at, in order, up to and including the one found. */
  looked: LookedAt[];
}

export interface SearchOptions {
  dir?: string;
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
}

function statOrUndefined(target: string): fs.Stats | undefined {
  try {
    return fs.statSync(target);
  } catch {
    return undefined;
  }
}

function holdsBinaryFiles(dir: string, spec: CifarSpec): boolean {
  return [...spec.train, ...spec.test].some((file) => statOrUndefined(path.join(dir, file.name))?.isFile());
}

function isArchiveName(file: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(file);
}

/** What a single place holds: the binary folder itself, the folder inside it, or the archive inside it. */
export function inspectLocation(
  place: string,
  origin: LocationOrigin,
  spec: CifarSpec,
): { found?: DataLocation; reason?: string } {
  const stats = statOrUndefined(place);
  if (!stats) return { reason: 'does not exist' };
  if (stats.isFile()) {
    if (isArchiveName(place)) return { found: { kind: 'archive', path: place, origin } };
    return { reason: 'is a file but not a .tar.gz archive' };
  }
  if (!stats.isDirectory()) return { reason: 'is neither a folder nor a .tar.gz archive' };
  if (holdsBinaryFiles(place, spec)) return { found: { kind: 'directory', path: place, origin } };
  const inner = path.join(place, spec.directoryName);
  if (statOrUndefined(inner)?.isDirectory()) return { found: { kind: 'directory', path: inner, origin } };
  const archive = path.join(place, spec.archiveName);
  if (statOrUndefined(archive)?.isFile()) return { found: { kind: 'archive', path: archive, origin } };
  return { reason: `holds neither ${spec.directoryName}/ nor ${spec.archiveName}` };
}

export function searchPlaces(options: SearchOptions): { path: string; origin: LocationOrigin }[] {
  const env = options.env ?? process.env;
  const places: { path: string; origin: LocationOrigin }[] = [];
  if (options.dir !== undefined) places.push({ path: path.resolve(options.dir), origin: 'dir option' });
  if (env.TTA_DATA_DIR) places.push({ path: path.resolve(env.TTA_DATA_DIR), origin: 'TTA_DATA_DIR' });
  places.push({ path: datasetsCacheDir(options.cacheDir, env), origin: 'cache' });
  return places;
}

export function searchDataset(spec: CifarSpec, options: SearchOptions = {}): SearchResult {
  const looked: LookedAt[] = [];
  for (const place of searchPlaces(options)) {
    const { found, reason } = inspectLocation(place.path, place.origin, spec);
    looked.push(reason === undefined ? place : { ...place, reason });
    if (found) return { found, looked };
  }
  return { found: undefined, looked };
}
