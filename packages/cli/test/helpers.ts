// Helpers for the CLI's end-to-end tests: run the built binary as a subprocess, and
// write small synthetic CIFAR-10-format datasets that a CNN learns in one epoch.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BIN = path.resolve(__dirname, '..', 'dist', 'bin.js');
export const REPO = path.resolve(__dirname, '..', '..', '..');
export const REAL_DATA = path.resolve(REPO, '..', 'shared', 'data', 'cifar-10-batches-bin');
export const hasRealData = existsSync(path.join(REAL_DATA, 'test_batch.bin'));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    onStderr?: (chunk: string, child: ReturnType<typeof spawn>) => void;
    timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // The backend: native, as `auto` picks on a machine without tensorflow, or $TTA_TEST_BACKEND
    // (CI runs these tests again on tensorflow).
    const env: Record<string, string | undefined> = {
      ...process.env,
      CI: 'true',
      TTA_BACKEND: process.env.TTA_TEST_BACKEND || 'native',
      ...options.env,
    };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      options.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr: withoutTensorflowNotes(stderr) });
    });
  });
}

/**
 * stderr without the informational lines TensorFlow's C++ library prints when the tensorflow
 * backend loads: absl's banner and an INFO line about oneDNN, written before anything (even
 * TF_CPP_MIN_LOG_LEVEL) can silence them. Warnings and errors from TensorFlow are kept.
 */
export function withoutTensorflowNotes(stderr: string): string {
  return stderr
    .split(/(?<=\n)/)
    .filter(
      (line) =>
        !/^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\n?$/.test(line) &&
        !/^I\d{4} [\d:.]+ +\d+ [\w.]+\.cc:\d+\] /.test(line),
    )
    .join('');
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `tta-cli-${prefix}-`));
}

/** Deterministic noise. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * A CIFAR-10-format directory whose classes are easy: class k has a bright square
 * of a class colour at a class position, on noise. Records are planar R, G, B.
 */
export function writeSyntheticCifar(dir: string, perBatch: number, testCount: number, seed = 1): string {
  mkdirSync(dir, { recursive: true });
  const random = lcg(seed);
  const record = (label: number): Buffer => {
    const bytes = Buffer.alloc(3073);
    bytes[0] = label;
    const colour = [(label * 97) % 256, (label * 57 + 80) % 256, (label * 31 + 160) % 256];
    const x0 = (label % 5) * 6;
    const y0 = Math.floor(label / 5) * 14 + 2;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const inside = x >= x0 && x < x0 + 8 && y >= y0 && y < y0 + 12;
          const noise = Math.floor(random() * 60);
          bytes[1 + c * 1024 + y * 32 + x] = inside ? Math.min(255, colour[c]! + noise) : noise;
        }
      }
    }
    return bytes;
  };
  const batch = (count: number, offset: number) =>
    Buffer.concat(Array.from({ length: count }, (_, i) => record((i + offset) % 10)));
  for (let b = 1; b <= 5; b++) writeFileSync(path.join(dir, `data_batch_${b}.bin`), batch(perBatch, b));
  writeFileSync(path.join(dir, 'test_batch.bin'), batch(testCount, 0));
  writeFileSync(
    path.join(dir, 'batches.meta.txt'),
    'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n',
  );
  return dir;
}
