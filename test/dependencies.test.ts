// Dependencies point one way, and every package.json says exactly what its code uses:
// read each workspace package's manifest and every module specifier in its code.
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

/** Which workspace packages each one may depend on: the layering, from the leaf up. */
const ALLOWED: Record<string, readonly string[]> = {
  '@tta/util': [],
  '@tta/progress': [],
  '@tta/report': ['@tta/util'],
  '@tta/native': ['@tta/util'],
  '@tta/tfjs-backend-native': ['@tta/util'],
  '@tta/data': ['@tta/util', '@tta/progress'],
  '@tta/core': ['@tta/util', '@tta/native'],
  '@tta/model': ['@tta/util', '@tta/native', '@tta/tfjs-backend-native', '@tta/data', '@tta/progress', '@tta/core'],
  '@tta/examples': ['@tta/native', '@tta/data', '@tta/core', '@tta/model'],
  '@tta/cli': ['@tta/util', '@tta/native', '@tta/data', '@tta/progress', '@tta/core', '@tta/model', '@tta/report'],
};

/** Tools a package runs rather than imports: used if its scripts or build files name them. */
const TOOLS = new Set(['jest', 'ts-jest', 'typescript', 'cmake-js', 'node-addon-api', 'c8']);
/** What a tool uses in turn without naming it: cmake-js builds offline against node-api-headers. */
const IMPLIED: Record<string, string> = { 'cmake-js': 'node-api-headers' };

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

interface WorkspacePackage {
  dir: string;
  manifest: Manifest;
}

function workspacePackages(): WorkspacePackage[] {
  const dirs = [
    path.join(root, 'native'),
    path.join(root, 'examples'),
    ...fs.readdirSync(path.join(root, 'packages')).map((d) => path.join(root, 'packages', d)),
  ];
  return dirs
    .filter((dir) => fs.existsSync(path.join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest }));
}

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sourceFiles(file);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [file] : [];
  });
}

const BUILTINS = new Set(builtinModules);

/** The package a module specifier names, or undefined for relative paths and Node's own modules. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return BUILTINS.has(name) ? undefined : name;
}

/** Every module a file imports: static and dynamic imports, and require. */
export function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** Scoped package names in string literals: modules loaded by a computed name at run time (backends). */
export function namedPackages(source: string): string[] {
  return [...source.matchAll(/['"](@[a-z0-9-]+\/[a-z0-9.-]+)['"]/g)].map((m) => m[1]!);
}

interface Usage {
  production: Set<string>;
  development: Set<string>;
  /** Named in a string: counts as a use of a declared dependency, never as an import of an undeclared one. */
  named: Set<string>;
}

function usage(pkg: WorkspacePackage): Usage {
  const production = new Set<string>();
  const development = new Set<string>();
  const named = new Set<string>();
  const scripts = fs
    .readdirSync(pkg.dir)
    .filter((f) => /\.(mjs|cjs|js)$/.test(f))
    .map((f) => ({ file: path.join(pkg.dir, f), isTest: true }));
  const files = [
    ...['src', 'lib', 'test', 'bench'].flatMap((folder) =>
      sourceFiles(path.join(pkg.dir, folder)).map((file) => ({
        file,
        isTest: folder === 'test' || folder === 'bench' || /\.test\.ts$/.test(file),
      })),
    ),
    // Top-level scripts (configuration, examples) count as development use.
    ...scripts,
  ];
  for (const { file, isTest } of files) {
    const source = fs.readFileSync(file, 'utf8');
    for (const name of namedPackages(source)) named.add(name);
    for (const specifier of specifiers(source)) {
      const name = packageOf(specifier);
      if (name === undefined || name === pkg.manifest.name) continue;
      (isTest ? development : production).add(name);
    }
  }
  const buildFiles = ['CMakeLists.txt', 'jest.config.js']
    .map((f) => path.join(pkg.dir, f))
    .filter((f) => fs.existsSync(f));
  const buildText = [
    ...buildFiles.map((f) => fs.readFileSync(f, 'utf8')),
    ...Object.values(pkg.manifest.scripts ?? {}),
  ].join('\n');
  // A package with a tsconfig compiles with typescript; one with a jest config tests with jest and ts-jest.
  const implicit = new Set<string>();
  if (fs.existsSync(path.join(pkg.dir, 'tsconfig.json'))) implicit.add('typescript');
  if (fs.existsSync(path.join(pkg.dir, 'jest.config.js'))) implicit.add('jest').add('ts-jest');
  for (const tool of TOOLS) {
    if (!buildText.includes(tool) && !implicit.has(tool)) continue;
    development.add(tool);
    if (IMPLIED[tool]) development.add(IMPLIED[tool]);
  }
  return { production, development, named };
}

const packages = workspacePackages();

test('the workspace has the packages the layering describes', () => {
  expect(packages.map((p) => p.manifest.name).sort()).toEqual(Object.keys(ALLOWED).sort());
});

describe.each(packages.map((p) => [p.manifest.name, p] as const))('%s', (_name, pkg) => {
  const declared = {
    runtime: new Set([
      ...Object.keys(pkg.manifest.dependencies ?? {}),
      ...Object.keys(pkg.manifest.optionalDependencies ?? {}),
      ...Object.keys(pkg.manifest.peerDependencies ?? {}),
    ]),
    dev: new Set(Object.keys(pkg.manifest.devDependencies ?? {})),
  };
  const used = usage(pkg);

  test('depends only on the workspace packages below it', () => {
    const workspace = [...declared.runtime, ...declared.dev].filter((d) => d.startsWith('@tta/'));
    expect(workspace.filter((d) => !ALLOWED[pkg.manifest.name]!.includes(d))).toEqual([]);
  });

  test('its code imports only what it declares (production code: dependencies)', () => {
    expect([...used.production].filter((d) => !declared.runtime.has(d)).sort()).toEqual([]);
    expect(
      [...used.development]
        .filter((d) => !declared.runtime.has(d) && !declared.dev.has(d) && !d.startsWith('@types/'))
        .sort(),
    ).toEqual([]);
  });

  test('it declares nothing that it does not use', () => {
    const all = new Set([...used.production, ...used.development, ...used.named]);
    const unused = [...declared.runtime, ...declared.dev].filter((d) => !all.has(d) && !d.startsWith('@types/'));
    expect(unused.sort()).toEqual([]);
  });
});

test('the import scanner sees every form of import', () => {
  const source = `import a from 'x';\nimport type { B } from '@s/y/sub';\nimport 'side';\nconst c = require('z');\nawait import('w');\nload('@tensorflow/tfjs-node');\nimport fs from 'node:fs';\nimport p from 'path';`;
  const names = specifiers(source).map(packageOf).filter(Boolean);
  expect(new Set(names)).toEqual(new Set(['x', '@s/y', 'side', 'z', 'w']));
  expect(namedPackages(source)).toEqual(['@tensorflow/tfjs-node']);
});
