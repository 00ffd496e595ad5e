// Downloads one file over HTTP(S) with retries and backoff. The bytes go to a
// temporary file beside the destination, which is renamed into place only when
// the whole body (Content-Length, and the MD5 when one is known) arrived, so an
// interrupted download never leaves a file that looks complete.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ProgressBar, type ProgressMode } from '@tta/progress';
import { temporaryPath } from '@tta/util';
import { DataError } from './errors';

export interface DownloadOptions {
  url: string;
  destination: string;
  /** Checked when given; a mismatch counts as a failed attempt. */
  md5?: string;
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  label?: string;
  progress?: ProgressMode;
  onBytes?: (done: number, total: number | undefined) => void;
}

const MAX_REDIRECTS = 5;

class AttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

function get(url: string, timeoutMs: number, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new AttemptError(`${url} is not a valid URL`, false));
      return;
    }
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
    if (!client) {
      reject(new AttemptError(`${url} is not an http(s) URL`, false));
      return;
    }
    const request = client.get(parsed, { headers: { 'user-agent': 'tta-data (node)' } }, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new AttemptError(`too many redirects from ${url}`, false));
          return;
        }
        get(new URL(response.headers.location, parsed).toString(), timeoutMs, redirects + 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        response.resume();
        // 4xx (except timeouts and rate limits) will not change on a retry.
        const retryable = status >= 500 || status === 408 || status === 429;
        reject(new AttemptError(`HTTP ${status} ${response.statusMessage ?? ''}`.trim(), retryable));
        return;
      }
      response.setTimeout(timeoutMs, () => response.destroy(new Error(`no data for ${timeoutMs} ms`)));
      resolve(response);
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no response for ${timeoutMs} ms`)));
    // A host name that does not resolve means offline or a typo; retrying only delays the answer.
    request.on('error', (error: NodeJS.ErrnoException) =>
      reject(new AttemptError(error.message, error.code !== 'ENOTFOUND')),
    );
  });
}

async function attempt(options: DownloadOptions, temporary: string, timeoutMs: number): Promise<void> {
  const response = await get(options.url, timeoutMs);
  const lengthHeader = response.headers['content-length'];
  const total = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const hash = createHash('md5');
  const bar = new ProgressBar({
    label: options.label ?? `download ${path.basename(options.destination)}`,
    unit: 'B',
    mode: options.progress ?? 'auto',
    ...(total !== undefined ? { total } : {}),
  });
  let done = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      hash.update(chunk);
      bar.update(done);
      options.onBytes?.(done, total);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(response, meter, fs.createWriteStream(temporary));
  } catch (error) {
    bar.finish({ failed: 'yes' });
    const reason = error instanceof Error ? error.message : String(error);
    throw new AttemptError(
      `transfer cut off after ${done}${total !== undefined ? ` of ${total}` : ''} bytes (${reason})`,
      true,
    );
  }
  bar.finish();
  if (total !== undefined && done !== total) {
    throw new AttemptError(`transfer cut off after ${done} of ${total} bytes`, true);
  }
  if (options.md5 !== undefined) {
    const actual = hash.digest('hex');
    if (actual !== options.md5)
      throw new AttemptError(`wrong MD5: expected ${options.md5}, actual ${actual} (${done} bytes)`, true);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Downloads `url` to `destination` (atomically); throws a DataError naming the URL after the last failed attempt. */
export async function downloadFile(options: DownloadOptions): Promise<void> {
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 60000;
  await fs.promises.mkdir(path.dirname(options.destination), { recursive: true });
  const failures: string[] = [];
  for (let tryIndex = 0; tryIndex <= retries; tryIndex++) {
    if (tryIndex > 0) await sleep(retryDelayMs * 2 ** (tryIndex - 1));
    const temporary = temporaryPath(options.destination);
    try {
      await attempt(options, temporary, timeoutMs);
      await fs.promises.rename(temporary, options.destination);
      return;
    } catch (error) {
      await fs.promises.rm(temporary, { force: true });
      const retryable = error instanceof AttemptError ? error.retryable : false;
      failures.push(`attempt ${tryIndex + 1}: ${error instanceof Error ? error.message : String(error)}`);
      if (!retryable) break;
    }
  }
  throw new DataError('TTA_DATA_DOWNLOAD_FAILED', `Downloading ${options.url} failed (${failures.join('; ')})`, {
    file: options.url,
  });
}
