import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CIFAR10_URL, DataError, downloadFile, loadCifar10 } from '../src';
import { failure, makeArchive, naiveNhwc, tempDir, withEnv } from './helpers';

type Mode = 'full' | 'cut' | 'not-found' | 'redirect' | 'error';

/**
 * Serves the test's archive on 127.0.0.1; `plan` says how each request in turn is answered (the last entry repeats).
 */
class ArchiveServer {
  requests = 0;
  plan: Mode[] = ['full'];
  private server = http.createServer((request, response) => this.answer(request, response));

  constructor(private readonly body: Buffer) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/cifar-10-binary.tar.gz`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const mode = this.plan[Math.min(this.requests, this.plan.length - 1)] as Mode;
    this.requests++;
    if (mode === 'not-found') {
      response.writeHead(404).end('no such file');
    } else if (mode === 'error') {
      response.writeHead(503).end('try later');
    } else if (mode === 'redirect' && request.url !== '/moved.tar.gz') {
      response.writeHead(302, { location: '/moved.tar.gz' }).end();
    } else if (mode === 'cut') {
      // Promise the whole body, send part of it, then drop the connection.
      response.writeHead(200, { 'content-length': String(this.body.length) });
      response.write(this.body.subarray(0, Math.floor(this.body.length / 3)), () =>
        setTimeout(() => response.socket?.destroy(), 20),
      );
    } else {
      response.writeHead(200, { 'content-length': String(this.body.length) });
      response.end(this.body);
    }
  }
}

let root: string;
let restoreEnv: () => void;
let server: ArchiveServer;
let url: string;
let archiveFiles: Record<string, Buffer>;

beforeAll(async () => {
  const made = await makeArchive(tempDir('tta-data-archive-'), 5);
  archiveFiles = made.files;
  server = new ArchiveServer(fs.readFileSync(made.file));
  fs.rmSync(path.dirname(made.file), { recursive: true, force: true });
  url = await server.start();
});
afterAll(() => server.stop());

beforeEach(() => {
  root = tempDir();
  server.requests = 0;
  server.plan = ['full'];
  restoreEnv = withEnv({
    TTA_DATA_DIR: undefined,
    TTA_CACHE_DIR: path.join(root, 'cache'),
    TTA_OFFLINE: undefined,
    TTA_CIFAR10_URL: undefined,
  });
});
afterEach(() => {
  restoreEnv();
  fs.rmSync(root, { recursive: true, force: true });
});

const datasets = () => path.join(root, 'cache', 'datasets');
const cacheEntries = () => (fs.existsSync(datasets()) ? fs.readdirSync(datasets()).sort() : []);
const quick = { verify: false, progress: 'quiet' as const, retryDelayMs: 5, timeoutMs: 5000 };

describe('downloading when nothing is found', () => {
  it('downloads the archive from the URL, extracts it into the cache and removes the archive', async () => {
    const downloaded: number[] = [];
    let total: number | undefined;
    const dataset = await loadCifar10({
      ...quick,
      url,
      onProgress: (p) => p.phase === 'download' && (downloaded.push(p.done), (total = p.total)),
    });
    expect(server.requests).toBe(1);
    expect(dataset.source).toBe(path.join(datasets(), 'cifar-10-batches-bin'));
    expect(dataset.train.count).toBe(25);
    expect(
      Buffer.from(dataset.test.images).equals(Buffer.from(naiveNhwc(archiveFiles['test_batch.bin'] as Buffer, 1))),
    ).toBe(true);
    expect(downloaded[downloaded.length - 1]).toBe(total);
    expect(cacheEntries()).toEqual(['cifar-10-batches-bin']);
    // Next time it is found in the cache, no request made.
    await loadCifar10({ ...quick, url });
    expect(server.requests).toBe(1);
  });

  it('takes the URL from TTA_CIFAR10_URL and follows redirects', async () => {
    process.env.TTA_CIFAR10_URL = url;
    server.plan = ['redirect'];
    const dataset = await loadCifar10(quick);
    expect(dataset.test.count).toBe(5);
    expect(server.requests).toBe(2);
  });

  it('retries a transfer cut off mid-way and succeeds', async () => {
    server.plan = ['cut', 'full'];
    const dataset = await loadCifar10({ ...quick, url });
    expect(server.requests).toBe(2);
    expect(dataset.train.count).toBe(25);
    expect(cacheEntries()).toEqual(['cifar-10-batches-bin']);
  });

  it('fails clearly when every attempt is cut off, leaving no file that looks complete', async () => {
    server.plan = ['cut'];
    const error = await failure(loadCifar10({ ...quick, url, retries: 2 }));
    expect(error).toBeInstanceOf(DataError);
    expect(error.code).toBe('TTA_DATA_NOT_FOUND');
    expect(server.requests).toBe(3);
    expect(error.message).toContain(`Downloading ${url} failed`);
    expect(error.message).toMatch(/attempt 3: transfer cut off after \d+ of \d+ bytes/);
    expect(error.message).toContain(`${datasets()} (cache)`);
    expect(error.message).toContain(CIFAR10_URL);
    expect(error.message).toContain('TTA_DATA_DIR');
    expect((error.cause as DataError).code).toBe('TTA_DATA_DOWNLOAD_FAILED');
    expect(cacheEntries()).toEqual([]);
  });

  it('does not retry a 404 but retries a 503', async () => {
    server.plan = ['not-found'];
    await expect(loadCifar10({ ...quick, url, retries: 3 })).rejects.toThrow('attempt 1: HTTP 404 Not Found');
    expect(server.requests).toBe(1);
    server.requests = 0;
    server.plan = ['error', 'full'];
    await expect(loadCifar10({ ...quick, url, retries: 3 })).resolves.toMatchObject({ name: 'cifar10' });
    expect(server.requests).toBe(2);
  });

  it('fails with the URL when nothing listens there', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x.tar.gz`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(loadCifar10({ ...quick, url: deadUrl, retries: 1 }));
    expect(error.code).toBe('TTA_DATA_NOT_FOUND');
    expect(error.message).toContain(`Downloading ${deadUrl} failed (attempt 1: connect ECONNREFUSED`);
    expect(error.message).toContain('attempt 2:');
  });
});

describe('downloadFile', () => {
  it('does not retry a host name that does not resolve', async () => {
    const error = await failure(
      downloadFile({
        url: 'http://tta-data-test.invalid/x.tar.gz',
        destination: path.join(root, 'x.tar.gz'),
        retries: 3,
        retryDelayMs: 10,
        progress: 'quiet',
      }),
    );
    expect(error.code).toBe('TTA_DATA_DOWNLOAD_FAILED');
    expect(error.message).toMatch(
      /^Downloading http:\/\/tta-data-test.invalid\/x.tar.gz failed \(attempt 1: getaddrinfo \w+ tta-data-test.invalid/,
    );
    // ENOTFOUND is final; a resolver that is only temporarily unavailable (EAI_AGAIN) is worth retrying.
    if (error.message.includes('ENOTFOUND')) expect(error.message).not.toContain('attempt 2');
    else expect(error.message).toContain('attempt 4');
  });

  it('checks the MD5 when given one, and leaves no file when it is wrong', async () => {
    const destination = path.join(root, 'out', 'archive.tar.gz');
    await expect(
      downloadFile({ url, destination, md5: '0'.repeat(32), retries: 1, retryDelayMs: 1, progress: 'quiet' }),
    ).rejects.toThrow(/attempt 2: wrong MD5: expected 0{32}, actual [0-9a-f]{32}/);
    expect(fs.readdirSync(path.dirname(destination))).toEqual([]);
    await downloadFile({ url, destination, progress: 'quiet' });
    expect(fs.readdirSync(path.dirname(destination))).toEqual(['archive.tar.gz']);
  });

  it('draws plain progress lines when asked to', async () => {
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      await downloadFile({ url, destination: path.join(root, 'a.tar.gz'), progress: 'plain', label: 'download test' });
    } finally {
      process.stderr.write = write;
    }
    expect(lines.join('')).toContain('download test');
    expect(lines.join('')).toContain('100%');
  });
});
