import { ProgressBar, formatCount, formatDuration, resolveMode } from '../src/index';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return {
    chunks,
    stream: {
      isTTY,
      columns: 200,
      write: (s: string) => (chunks.push(s), true),
    } as unknown as NodeJS.WritableStream & { isTTY: boolean },
  };
}

describe('ProgressBar', () => {
  test('formats durations and counts', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(75)).toBe('1:15');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Infinity)).toBe('--:--');
    expect(formatCount(150000)).toBe('150k');
    expect(formatCount(2.5e6, 'B')).toBe('2.5MB');
    expect(formatCount(42)).toBe('42');
  });

  test('redraws one line on a TTY, throttled, and ends it on finish', () => {
    let t = 0;
    const { chunks, stream } = sink(true);
    const bar = new ProgressBar({ label: 'train', total: 100, unit: 'img', stream, mode: 'tty', now: () => t });
    t = 1000;
    bar.update(10, { loss: 1.5 });
    t = 1050;
    bar.update(20); // throttled
    t = 1080;
    bar.update(100); // throttled too, but finish() shows it
    bar.finish();
    expect(chunks).toHaveLength(2);
    expect(chunks[0]).toMatch(/^\rtrain {2}\[=+ +\] {2} 10% {2}10\/100 {2}10img\/s {2}ETA 0:09 {2}loss 1\.5000$/);
    expect(chunks[1]!.endsWith('\n')).toBe(true);
    expect(chunks[1]).toContain('100%');
    expect(chunks.join('')).not.toContain('\n\r');
  });

  test('writes plain lines without control characters when not a TTY', () => {
    let t = 0;
    const { chunks, stream } = sink(false);
    const bar = new ProgressBar({ label: 'download', total: 10, stream, now: () => t, plainMs: 5000 });
    expect(bar.mode).toBe('plain');
    t = 1;
    bar.update(1);
    t = 2;
    bar.update(2);
    bar.finish();
    expect(chunks).toHaveLength(2);
    // eslint-disable-next-line no-control-regex -- no carriage return or ANSI escape may reach a log
    for (const c of chunks) expect(c).not.toMatch(/[\r\u001b]/);
  });

  test('quiet writes nothing and CI is never a TTY', () => {
    const { chunks, stream } = sink(true);
    const bar = new ProgressBar({ label: 'x', total: 1, stream, mode: 'quiet' });
    bar.update(1);
    bar.finish();
    expect(chunks).toHaveLength(0);
    const saved = process.env.CI;
    process.env.CI = 'true';
    expect(resolveMode('auto', { isTTY: true })).toBe('plain');
    process.env.CI = '';
    expect(resolveMode('auto', { isTTY: true })).toBe('tty');
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });
});

test('a bar made after the work started measures its rate from startedAt', () => {
  let t = 1000;
  const chunks: string[] = [];
  const stream = { isTTY: false, write: (c: string) => chunks.push(c) > 0 } as unknown as NodeJS.WritableStream;
  const bar = new ProgressBar({
    label: 'x',
    total: 100,
    unit: 'img',
    mode: 'plain',
    stream,
    now: () => t,
    startedAt: 0,
  });
  t = 2000;
  bar.update(100);
  bar.finish();
  // 100 images over 2 s from startedAt, not over the 1 s since the bar was made.
  expect(chunks.join('')).toMatch(/50(\.0)?img\/s|50 img\/s/);
});
