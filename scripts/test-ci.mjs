#!/usr/bin/env node
// The whole test run, as CI and the README run it:
//   1. gates: strict TypeScript over sources and tests, ESLint + Prettier, clang-format + clang-tidy;
//   2. every package's jest suite with coverage thresholds, then the cross-package tests in test/;
//   3. the addons' own tests again against AddressSanitizer + UndefinedBehaviorSanitizer
//      builds, and against ThreadSanitizer builds.
// jest's own summary is per run, so this sums the JSON reports. Each gate counts as one
// test; skipped tests are listed by name (their titles say why). The last line is
// "N passed, M failed".
// Where the tensorflow backend is set up (scripts/setup-tensorflow.sh), the suites whose
// assertions hold on any backend run a second time on it (TTA_TEST_BACKEND=tensorflow);
// elsewhere one line says why not.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPORT = 'jest-report.json';
const jestBin = createRequire(path.join(root, 'package.json')).resolve('jest/bin/jest');
const skip = new Set((process.env.TTA_SKIP ?? '').split(',').filter(Boolean));
if (process.env.TTA_SKIP_ASAN === '1') skip.add('asan');
const TENSORFLOW_REPORT = 'jest-report-tensorflow.json';
// TensorFlow's C++ start-up notes; jest's per-file process.env cannot set this for the library.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

function run(command, args, options = {}) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  return result.status ?? 1;
}

/** Workspace folders that hold jest tests, with their addon build if they have one. */
function projectDirs() {
  const dirs = [path.join(root, 'native'), path.join(root, 'test')];
  for (const name of readdirSync(path.join(root, 'packages'))) dirs.push(path.join(root, 'packages', name));
  return dirs.filter((dir) => existsSync(path.join(dir, 'jest.config.js')));
}

/** Where each addon's loader takes a different build from (lib/binding.ts). */
const BINDING_ENV = {
  '@tta/native': 'TTA_NATIVE_BINDING',
  '@tta/tfjs-backend-native': 'TTA_TFJS_NATIVE_BINDING',
};

/** Packages with a C++ addon: they have CMakeLists.txt and build:asan / build:tsan scripts. */
function addons() {
  return projectDirs().filter((dir) => existsSync(path.join(dir, 'CMakeLists.txt')));
}

const reports = [];
const gates = [];
const gate = (name, status) => gates.push({ name, ok: status === 0 });

for (const dir of projectDirs())
  for (const report of [REPORT, TENSORFLOW_REPORT]) rmSync(path.join(dir, report), { force: true });
for (const dir of addons())
  for (const s of ['asan', 'tsan']) rmSync(path.join(dir, `jest-report-${s}.json`), { force: true });

// 1. Gates.
if (!skip.has('gates')) {
  gate('typecheck (sources and tests)', run('pnpm', ['typecheck']));
  gate('eslint', run('pnpm', ['exec', 'eslint', '.', '--max-warnings', '0']));
  gate('prettier', run('pnpm', ['exec', 'prettier', '--check', '.']));
  gate('clang-format and clang-tidy', run('bash', ['scripts/lint-cpp.sh']));
}

// 2. Every package's tests with coverage, one package at a time (the machines have two
// cores), after one build of everything; then the cross-package tests in test/.
const build = run('pnpm', ['build']);
if (build !== 0) gates.push({ name: 'pnpm build', ok: false });
for (const dir of projectDirs()) {
  const report = ['--runInBand', '--json', `--outputFile=${REPORT}`];
  // Packages run their own coverage (`test:coverage`: jest's, or c8 for the CLI, whose tests run it as subprocesses).
  const status = dir.endsWith(`${path.sep}test`)
    ? run(process.execPath, [jestBin, ...report], { cwd: dir })
    : run('pnpm', ['run', 'test:coverage', ...report], { cwd: dir });
  reports.push({ file: path.join(dir, REPORT), status });
}

// 3. The suites whose assertions hold on any backend, again on tensorflow where it works:
// @tta/model's training and CIFAR tests, and the CLI's end to end; @tta/core's engine touches
// no backend today, and runs again so that any test of it that does is covered.
const probe = spawnSync(
  process.execPath,
  [
    '-e',
    "require('./dist').selectBackend('tensorflow').then(() => process.exit(0), (e) => { console.log(e.reason ?? e.message); process.exit(1); })",
  ],
  { cwd: path.join(root, 'packages', 'model'), encoding: 'utf8' },
);
if (probe.status !== 0) {
  const reason = (probe.stdout || probe.stderr).trim().split('\n')[0];
  console.log(
    `\ntensorflow backend: not available here (${reason}); the backend-independent suites ran on native only`,
  );
} else {
  console.log(
    '\ntensorflow backend: available; the model, core and CLI suites run again on it (TTA_TEST_BACKEND=tensorflow)',
  );
  const env = { ...process.env, TTA_TEST_BACKEND: 'tensorflow' };
  for (const [name, files] of [
    ['model', ['test/train.test.ts', 'test/cifar.integration.test.ts']],
    ['core', []],
    ['cli', []],
  ]) {
    const cwd = path.join(root, 'packages', name);
    const report = ['--runInBand', '--json', `--outputFile=${TENSORFLOW_REPORT}`, ...files];
    const status = run(process.execPath, [jestBin, ...report], { cwd, env });
    reports.push({ file: path.join(cwd, TENSORFLOW_REPORT), status });
  }
}

// 4. Sanitizer runs of each addon's tests. Node itself is not instrumented, so the runtime
// is preloaded: ASan without leak checks (V8 keeps memory until exit), TSan looking only at
// accesses made from instrumented code (the addon), not Node's own threads.
const gcc = (name) => spawnSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).stdout.trim();
const SANITIZERS = {
  asan: {
    preload: [gcc('libasan.so'), gcc('libubsan.so')].join(':'),
    env: { ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
  },
  tsan: {
    preload: gcc('libtsan.so'),
    env: { TSAN_OPTIONS: 'halt_on_error=1:ignore_noninstrumented_modules=1:report_signal_unsafe=0' },
  },
};
for (const [name, sanitizer] of Object.entries(SANITIZERS)) {
  if (skip.has(name)) continue;
  for (const dir of addons()) {
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const report = path.join(dir, `jest-report-${name}.json`);
    if (run('pnpm', ['--filter', manifest.name, 'run', `build:${name}`]) !== 0) {
      reports.push({ file: report, status: 1 });
      continue;
    }
    const binding = readdirSync(path.join(dir, `build-${name}`, 'Debug')).find((f) => f.endsWith('.node'));
    const env = {
      ...process.env,
      ...sanitizer.env,
      [BINDING_ENV[manifest.name]]: path.join(dir, `build-${name}`, 'Debug', binding ?? 'missing.node'),
      LD_PRELOAD: sanitizer.preload,
    };
    // The training tests take minutes under a sanitizer and exercise the same kernels.
    const tests = readdirSync(path.join(dir, 'test'))
      .filter((f) => f.endsWith('.test.ts') && !f.includes('training'))
      .map((f) => `test/${f}`);
    // jest's own launcher is run by node directly: the preloaded runtime must see node first.
    const status = run(process.execPath, [jestBin, '--runInBand', '--json', `--outputFile=${report}`, ...tests], {
      cwd: dir,
      env,
    });
    reports.push({ file: report, status });
  }
}

let passed = 0;
let failed = 0;
const skipped = [];
for (const g of gates) {
  if (g.ok) passed += 1;
  else {
    failed += 1;
    console.log(`gate failed: ${g.name}`);
  }
}
for (const { file, status } of reports) {
  if (!existsSync(file)) {
    console.log(`missing report: ${path.relative(root, file)}`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  // A suite that cannot even run (syntax error, crash in a hook) has no failed tests; count it.
  const failedHere = report.numFailedTests + report.numRuntimeErrorTestSuites;
  failed += failedHere;
  // jest exits non-zero with every test passing when a coverage threshold is missed.
  if (status !== 0 && failedHere === 0) {
    console.log(`${path.relative(root, file)}: jest failed with every test passing (coverage below its threshold?)`);
    failed += 1;
  }
  for (const suite of report.testResults) {
    for (const test of suite.assertionResults) {
      if (test.status === 'pending' || test.status === 'skipped') {
        skipped.push(`${path.relative(root, suite.name)}: ${[...test.ancestorTitles, test.title].join(' › ')}`);
      }
    }
  }
}
if (skipped.length > 0) {
  console.log(`\n${skipped.length} skipped:`);
  for (const line of skipped) console.log(`  ${line}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
