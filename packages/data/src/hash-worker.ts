// Hashing the six CIFAR-10 files with MD5 costs about as much as reading and
// reshuffling them, so it runs on a worker thread in parallel with the read.
// The worker reads the files itself (from the page cache, by then) because the
// main thread reshuffles its copy in place. Its code is inline so it works the
// same from dist/ and from ts-jest.
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
for (const file of workerData.files) {
  try {
    const hash = createHash(workerData.algorithm);
    const handle = fs.openSync(file, 'r');
    const chunk = Buffer.allocUnsafe(4 << 20);
    try {
      for (;;) {
        const n = fs.readSync(handle, chunk, 0, chunk.length, null);
        if (n === 0) break;
        hash.update(n === chunk.length ? chunk : chunk.subarray(0, n));
      }
    } finally {
      fs.closeSync(handle);
    }
    parentPort.postMessage({ file, digest: hash.digest('hex') });
  } catch (error) {
    parentPort.postMessage({ file, error: String(error && error.message || error) });
  }
}
`;

export interface FileHashes {
  /** Resolves with one hex digest per file, in order; rejects naming the file it could not read. */
  readonly digests: Promise<string[]>;
  /** Stops the worker early (when the load fails for another reason). */
  cancel(): void;
}

export function hashFilesInWorker(files: readonly string[], algorithm = 'md5'): FileHashes {
  if (files.length === 0) return { digests: Promise.resolve([]), cancel() {} };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { files, algorithm } });
  const digests = new Promise<string[]>((resolve, reject) => {
    const results: string[] = [];
    worker.on('message', (message: { file: string; digest?: string; error?: string }) => {
      if (message.error !== undefined) {
        reject(new Error(`Cannot read ${message.file} to check its ${algorithm.toUpperCase()}: ${message.error}`));
        void worker.terminate();
        return;
      }
      results.push(message.digest as string);
      if (results.length === files.length) {
        resolve(results);
        void worker.terminate();
      }
    });
    worker.on('error', reject);
    worker.on('exit', () => {
      if (results.length < files.length)
        reject(new Error(`The ${algorithm.toUpperCase()} worker stopped before hashing every file`));
    });
  });
  // A load that fails for another reason never awaits this; do not let that become an unhandled rejection.
  digests.catch(() => undefined);
  return {
    digests,
    cancel() {
      void worker.terminate();
    },
  };
}
