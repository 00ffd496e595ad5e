// Renders a report in headless Chromium (Debian's `chromium` package; scripts/setup.sh
// installs it) and checks what a reader would see: the charts are in the DOM with
// their labels, and the screenshot is a real, colourful page, not a blank one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { evalFixture, meta, tuneFixture } from './fixtures';
import { writeReport } from '../src/index';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
// Skipped (with the reason in its title, which pnpm test:ci lists) without Chromium.
const maybe = available
  ? describe
  : (title: string, fn: () => void) =>
      describe.skip(`${title} (skipped: ${CHROMIUM} is missing; scripts/setup.sh installs it)`, fn);

const WIDTH = 1200;
const HEIGHT = 3000;

/** One headless run with a fresh profile, no network services, bounded in time. */
function chromium(args: string[], work: string): string {
  const profile = mkdtempSync(path.join(work, 'profile-'));
  try {
    return execFileSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

maybe('the report in headless Chromium', () => {
  let work: string;
  let url: string;
  let dom: string;
  let stats: { width: number; height: number; colours: number; nonWhite: number; near: number[] };

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'tta-report-chromium-'));
    const file = path.join(work, 'report.html');
    writeReport(file, { eval: evalFixture(), tune: tuneFixture(), meta: meta() });
    url = pathToFileURL(file).href;
    dom = chromium(['--dump-dom', url], work);
    const shot = path.join(work, 'shot.png');
    chromium([`--screenshot=${shot}`, `--window-size=${WIDTH},${HEIGHT}`, url], work);
    const script = path.resolve(__dirname, '../test/png-stats.js');
    // Bar colours of the CSS: blue (TTA helps) and orange (TTA hurts).
    stats = JSON.parse(
      execFileSync(process.execPath, [script, shot, '59,125,216', '232,131,58'], {
        encoding: 'utf8',
        cwd: path.dirname(script),
        timeout: 60_000,
      }),
    );
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the DOM has every chart as SVG with its key labels', () => {
    const charts: [string, string[]][] = [
      [
        'eval-accuracy',
        [
          'Test accuracy per policy',
          'flip-shift',
          'none (baseline)',
          'test accuracy',
          'error bar: ± 1 std over repeats',
        ],
      ],
      ['eval-class-lift', ['Per-class lift: flip-shift minus baseline', 'airplane', 'truck', 'TTA helps']],
      ['eval-flips', ['Predictions changed by TTA, per policy', 'wrong → correct (fixed by TTA)', 'net +']],
      ['eval-class-flips', ['per class (true class)', 'automobile']],
      ['eval-reliability', ['Reliability diagram', 'confidence (top score)', 'perfect calibration', 'baseline: none']],
      [
        'tune-frontier',
        [
          'Cost and accuracy of the candidate policies (validation)',
          'Pareto frontier',
          'forward passes per image (validation)',
          'chosen: ',
        ],
      ],
      ['tune-greedy', ['Greedy forward selection of views (validation)', 'validation NLL (lower is better)', '+flip']],
      ['tune-reliability', ['Reliability diagram']],
    ];
    for (const [id, labels] of charts) {
      const svg = new RegExp(`<svg[^>]*id="${id}"[^>]*>[\\s\\S]*?</svg>`).exec(dom)?.[0];
      expect(svg).toBeDefined();
      for (const label of labels) expect(svg).toContain(label.replace(/&/g, '&amp;'));
      // Non-empty: drawn marks with numeric geometry.
      expect((svg!.match(/<(rect|circle|path|polyline)\b/g) ?? []).length).toBeGreaterThan(3);
    }
    expect(dom).toContain('<table class="summary">');
    expect(dom).toContain('Configuration');
    expect(dom).not.toMatch(/<script/i);
  });

  test("the screenshot is a valid, non-blank PNG showing the charts' colours", () => {
    expect(stats.width).toBe(WIDTH);
    expect(stats.height).toBe(HEIGHT);
    const { colours, nonWhite } = stats;
    const [blue, orange] = stats.near as [number, number];
    const pixels = WIDTH * HEIGHT;
    expect(colours).toBeGreaterThan(200);
    expect(nonWhite / pixels).toBeGreaterThan(0.05);
    expect(nonWhite / pixels).toBeLessThan(0.9);
    // The SVG bars were painted with their CSS colours (thousands of pixels each).
    expect(blue).toBeGreaterThan(5000);
    expect(orange).toBeGreaterThan(2000);
  });
});
