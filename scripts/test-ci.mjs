#!/usr/bin/env node
// The whole test run, as CI and the README run it: every package's jest suite
// (through turbo, one at a time: the machines have two cores), the cross-package
// tests in test/, and the native tests again against an AddressSanitizer +
// UndefinedBehaviorSanitizer build of the addon. jest's own summary is per run,
// so this sums the JSON reports and ends with one line: "N passed, M failed".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPORT = 'jest-report.json';
const skipAsan = process.env.TTA_SKIP_ASAN === '1';

function run(command, args, options = {}) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  return result.status ?? 1;
}

function projectDirs() {
  const dirs = [path.join(root, 'native'), path.join(root, 'test')];
  for (const name of readdirSync(path.join(root, 'packages'))) dirs.push(path.join(root, 'packages', name));
  return dirs;
}

const reports = [];
for (const dir of projectDirs()) rmSync(path.join(dir, REPORT), { force: true });
rmSync(path.join(root, 'native', 'jest-report-asan.json'), { force: true });

let failures = 0;
// 1. Every package's tests (turbo builds what they depend on first).
failures += run('pnpm', ['exec', 'turbo', 'run', 'test', '--concurrency=1', '--continue', '--', '--json', `--outputFile=${REPORT}`]) ? 1 : 0;
// 2. Cross-package tests.
failures += run('pnpm', ['exec', 'jest', '--config', 'test/jest.config.js', '--runInBand', '--json', `--outputFile=test/${REPORT}`]) ? 1 : 0;
for (const dir of projectDirs()) reports.push(path.join(dir, REPORT));

// 3. The addon's own tests under ASan + UBSan. Node itself is not instrumented,
// so the runtime is preloaded; leak checking is off (V8 keeps memory until exit).
if (!skipAsan) {
  const native = path.join(root, 'native');
  if (run('pnpm', ['--filter', '@tta/native', 'run', 'build:asan']) !== 0) {
    failures += 1;
  } else {
    const gcc = (name) => spawnSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).stdout.trim();
    const env = {
      ...process.env,
      TTA_NATIVE_BINDING: path.join(native, 'build-asan', 'Debug', 'tta_native.node'),
      LD_PRELOAD: [gcc('libasan.so'), gcc('libubsan.so')].join(':'),
      ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    };
    const asanTests = readdirSync(path.join(native, 'test')).filter((f) => f.endsWith('.test.ts') && !f.startsWith('tfjs-train')).map((f) => `test/${f}`);
    failures += run('pnpm', ['exec', 'jest', '--runInBand', '--json', '--outputFile=jest-report-asan.json', ...asanTests], { cwd: native, env }) ? 1 : 0;
    reports.push(path.join(native, 'jest-report-asan.json'));
  }
}

let passed = 0;
let failed = 0;
for (const file of reports) {
  if (!existsSync(file)) {
    console.log(`missing report: ${path.relative(root, file)}`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  // A suite that cannot even run (syntax error, crash in a hook) has no failed tests; count it.
  failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
}
if (failed === 0 && failures > 0) failed = failures;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
