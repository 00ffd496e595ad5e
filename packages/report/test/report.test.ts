import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { evalFixture, meta, summary, tuneFixture } from './fixtures';
import { chartSvg, elements, geometryNumbers, num, texts } from './svg-inspect';
import {
  bestPolicy,
  CIFAR10_CLASSES,
  paretoFrontier,
  renderReport,
  writeReport,
  type EvalReport,
  type ReportInput,
  type TuneCandidate,
} from '../src/index';
import { linearScale, niceStep } from '../src/svg';

function expectWellFormedChart(svg: string, title: string): void {
  expect(svg).toMatch(/role="img"/);
  expect(svg).toContain(`aria-label="${title}"`);
  expect(svg).toMatch(/<title id="[^"]+-title">/);
  expect(texts(svg, 'chart-title')).toEqual([title]);
  expect(texts(svg, 'tick').length).toBeGreaterThanOrEqual(3);
  const numbers = geometryNumbers(svg);
  expect(numbers.length).toBeGreaterThan(20);
  for (const n of numbers) expect(Number.isFinite(n)).toBe(true);
}

describe('renderReport: tta eval results', () => {
  const ev = evalFixture();
  const html = renderReport({ eval: ev, meta: meta() });

  test('is one HTML document with no scripts and no external references', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<html/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|@import|url\(/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  test('accuracy chart: one dot per policy plus the baseline, ordered by accuracy, with std error bars', () => {
    const svg = chartSvg(html, 'accuracy', 'eval-accuracy');
    expectWellFormedChart(svg, 'Test accuracy per policy');
    const dots = [
      ...elements(svg, 'circle', 'dot-baseline'),
      ...elements(svg, 'circle', 'dot-policy'),
      ...elements(svg, 'circle', 'dot-best'),
    ];
    expect(dots).toHaveLength(ev.policies.length + 1);
    expect(elements(svg, 'circle', 'dot-best')).toHaveLength(1);
    // Row order is baseline then policies, so cy increases; cx must follow the accuracy.
    dots.sort((a, b) => num(a, 'cy') - num(b, 'cy'));
    const accuracies = [ev.baseline, ...ev.policies].map((p) => p.accuracy.mean as number);
    for (let i = 0; i < dots.length; i++) {
      for (let j = 0; j < dots.length; j++) {
        if (accuracies[i]! < accuracies[j]!) expect(num(dots[i]!, 'cx')).toBeLessThan(num(dots[j]!, 'cx'));
      }
    }
    // Whiskers: one line plus two caps per row; half-widths proportional to the std.
    expect(elements(svg, 'line', 'whisker')).toHaveLength(3 * dots.length);
    expect(svg).toContain('error bar: ± 1 std over repeats');
    expect(elements(svg, 'line', 'baseline-line')).toHaveLength(1);
    expect(texts(svg, 'label').join('|')).toContain('none (baseline)');
  });

  test('per-class lift: a bar per class, height and sign from policy minus baseline', () => {
    const best = bestPolicy(ev.policies)!;
    expect(best.name).toBe('flip-shift');
    const svg = chartSvg(html, 'class-lift', 'eval-class-lift');
    expectWellFormedChart(svg, 'Per-class lift: flip-shift minus baseline');
    const bars = [...elements(svg, 'rect', 'bar-gain'), ...elements(svg, 'rect', 'bar-loss')].sort(
      (a, b) => num(a, 'x') - num(b, 'x'),
    );
    expect(bars).toHaveLength(10);
    const lifts = best.perClass!.map((v, k) => (v as number) - (ev.baseline.perClass![k] as number));
    bars.forEach((bar, k) => {
      expect(num(bar, 'data-value')).toBeCloseTo(lifts[k]!, 12);
      expect(bar.attrs.class).toBe(lifts[k]! >= 0 ? 'bar-gain' : 'bar-loss');
    });
    const ratio = num(bars[0]!, 'height') / Math.abs(lifts[0]!);
    bars.forEach((bar, k) => expect(num(bar, 'height')).toBeCloseTo(ratio * Math.abs(lifts[k]!), -0.5));
    for (const name of CIFAR10_CLASSES) expect(texts(svg, 'label')).toContain(name);
    // Every policy in the heatmap table, one cell per class.
    const heat = /<table class="heatmap"[\s\S]*?<\/table>/.exec(html)![0];
    expect(heat.match(/<td class="num heat"/g)).toHaveLength(10 * ev.policies.length);
  });

  test('flip counts: widths proportional to the counts, per policy and per class of the best', () => {
    const svg = chartSvg(html, 'flips', 'eval-flips');
    expectWellFormedChart(svg, 'Predictions changed by TTA, per policy');
    const gains = elements(svg, 'rect', 'bar-gain');
    const losses = elements(svg, 'rect', 'bar-loss');
    expect(gains).toHaveLength(ev.policies.length);
    expect(losses).toHaveLength(ev.policies.length);
    const unit = num(gains[0]!, 'width') / num(gains[0]!, 'data-value');
    for (const bar of [...gains, ...losses]) expect(num(bar, 'width')).toBeCloseTo(num(bar, 'data-value') * unit, -0.5);
    expect(gains.map((g) => num(g, 'data-value'))).toEqual(ev.policies.map((p) => p.flips!.wrongToCorrect));
    const net = (ev.policies[0]!.flips!.wrongToCorrect as number) - (ev.policies[0]!.flips!.correctToWrong as number);
    expect(texts(svg, 'value')).toContain(`net ${net > 0 ? '+' : ''}${net}`);
    const perClass = chartSvg(html, 'class-flips', 'eval-class-flips');
    expectWellFormedChart(perClass, 'Predictions changed by flip-shift, per class (true class)');
    expect(elements(perClass, 'rect', 'bar-gain')).toHaveLength(10);
    expect(elements(perClass, 'rect', 'bar-loss')).toHaveLength(10);
  });

  test('reliability diagram: baseline and best panels, bars for non-empty bins, diagonal, histogram', () => {
    const svg = chartSvg(html, 'reliability', 'eval-reliability');
    expectWellFormedChart(svg, 'Reliability diagram');
    expect(svg).toContain('data-panel="baseline"');
    expect(svg).toContain('data-panel="best"');
    const nonEmpty = (p: typeof ev.baseline) => p.reliability!.filter((b) => b.count > 0).length;
    const expected = nonEmpty(ev.baseline) + nonEmpty(bestPolicy(ev.policies)!);
    expect(elements(svg, 'rect', 'bar-rel')).toHaveLength(expected);
    expect(elements(svg, 'rect', 'bar-hist')).toHaveLength(expected);
    expect(elements(svg, 'line', 'diagonal').length).toBeGreaterThanOrEqual(2);
    expect(elements(svg, 'polyline', 'rel-line')).toHaveLength(2);
    // Opacity grows with the bin count.
    const bars = elements(svg, 'rect', 'bar-rel').map((b) => ({
      count: num(b, 'data-count'),
      opacity: num(b, 'fill-opacity'),
    }));
    const most = bars.reduce((a, b) => (b.count > a.count ? b : a));
    const least = bars.reduce((a, b) => (b.count < a.count ? b : a));
    expect(most.opacity).toBeGreaterThan(least.opacity);
  });

  test('tables: per-policy summary, configuration and versions', () => {
    const summaryTable = /<table class="summary">[\s\S]*?<\/table>/.exec(html)![0];
    for (const h of ['accuracy', 'lift [95% CI]', 'McNemar p', 'NLL', 'ECE', 'Brier', 'img/s'])
      expect(summaryTable).toContain(`>${h}</th>`);
    expect(summaryTable.match(/<tr/g)).toHaveLength(ev.policies.length + 2);
    expect(summaryTable).toContain('71.20% ± 0.42%');
    expect(summaryTable).toContain('+2.80 pp');
    expect(summaryTable).toContain('[+2.40 pp, +3.20 pp]');
    expect(summaryTable).toContain('3.0e-5');
    const config = /<table class="config">[\s\S]*?<\/table>/.exec(html)![0];
    expect(config).toContain('<code>flip, flip-shift</code>');
    expect(config).toContain('<code>{&quot;a&quot;:1}</code>');
    expect(config).not.toContain('>missing<'); // undefined settings are left out
    const versions = /<table class="versions">[\s\S]*?<\/table>/.exec(html)![0];
    expect(versions).toContain('@tensorflow/tfjs-core');
    expect(versions).toContain('<code>4.22.0</code>');
    expect(html).toContain('tta eval --policies flip,flip-shift --repeats 2 --html report.html');
  });
});

describe('renderReport: error bars with one model', () => {
  test('repeats = 1 shows the bootstrap interval of the lift, and says so', () => {
    const ev = evalFixture({ repeats: 1 });
    const html = renderReport({ eval: ev, meta: meta() });
    const svg = chartSvg(html, 'accuracy');
    expect(svg).toContain('error bar: 95% bootstrap CI of the lift');
    expect(html).toContain('One model (repeats = 1), so there is no spread over repeats');
    // Policies get whiskers (line + 2 caps), the baseline none.
    expect(elements(svg, 'line', 'whisker')).toHaveLength(3 * ev.policies.length);
    const best = elements(svg, 'circle', 'dot-best')[0]!;
    const [lineBest] = elements(svg, 'line', 'whisker').filter(
      (l) => num(l, 'y1') === num(best, 'cy') && num(l, 'y2') === num(best, 'cy'),
    );
    // The fixture's interval is lift ± 0.4 pp, so the whisker is centred on the dot.
    expect((num(lineBest!, 'x1') + num(lineBest!, 'x2')) / 2).toBeCloseTo(num(best, 'cx'), 0);
  });

  test('repeats = 1 without an interval draws no error bars, and says so', () => {
    const ev = evalFixture({ repeats: 1 });
    for (const p of ev.policies) p.lift!.ci95 = null;
    const html = renderReport({ eval: ev, meta: meta() });
    expect(elements(chartSvg(html, 'accuracy'), 'line', 'whisker')).toHaveLength(0);
    expect(html).toContain('No error bars: one model (repeats = 1)');
  });
});

describe('renderReport: tta tune results', () => {
  const tune = tuneFixture();
  const html = renderReport({ tune, meta: meta() });

  test('cost/accuracy frontier: every candidate a point, the Pareto line, the chosen policy ringed', () => {
    const svg = chartSvg(html, 'frontier', 'tune-frontier');
    expectWellFormedChart(svg, 'Cost and accuracy of the candidate policies (validation)');
    const points = [...elements(svg, 'circle', 'dot-candidate'), ...elements(svg, 'circle', 'dot-gated')];
    expect(points).toHaveLength(tune.candidates.length);
    expect(elements(svg, 'circle', 'dot-gated')).toHaveLength(1);
    const frontier = paretoFrontier(tune.candidates);
    expect(elements(svg, 'circle', 'dot-frontier')).toHaveLength(frontier.length);
    const path = elements(svg, 'path', 'frontier');
    expect(path).toHaveLength(1);
    expect(path[0]!.attrs.d!.split(' V')).toHaveLength(frontier.length);
    const chosen = elements(svg, 'circle', 'dot-best');
    expect(chosen).toHaveLength(1);
    // The chosen point sits on the candidate with the same cost and accuracy.
    const same = points.filter((p) => num(p, 'cx') === num(chosen[0]!, 'cx') && num(p, 'cy') === num(chosen[0]!, 'cy'));
    expect(same).toHaveLength(1);
    expect(texts(svg, 'label').join('')).toContain(`chosen: ${tune.best.name}`);
    // Higher accuracy is higher up (smaller y), more passes further right.
    const usable = tune.candidates;
    const top = usable.reduce((a, c) => ((c.accuracy as number) > (a.accuracy as number) ? c : a));
    const topY = Math.min(...points.map((q) => num(q, 'cy')));
    expect(num(chosen[0]!, 'cy')).toBe(topY);
    expect(top.name).toBe(tune.best.name);
    const xs = [...points].sort((a, b) => num(a, 'cx') - num(b, 'cx'));
    expect(num(xs[0]!, 'cx')).toBeLessThan(num(xs[xs.length - 1]!, 'cx'));
    expect(svg).toContain('no TTA 68.00%');
  });

  test('greedy selection curve, leave-one-out and disagreement tables', () => {
    const svg = chartSvg(html, 'greedy', 'tune-greedy');
    expectWellFormedChart(svg, 'Greedy forward selection of views (validation)');
    const lines = elements(svg, 'polyline', 'greedy-line');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l.attrs.points!.split(' ')).toHaveLength(tune.greedy!.length);
    expect(texts(svg, 'added')).toEqual(expect.arrayContaining(['id', '+flip', '+dx=1']));
    const loo = /<table class="loo">[\s\S]*?<\/table>/.exec(html)![0];
    expect(loo.match(/<tr/g)).toHaveLength(tune.leaveOneOut!.length + 1);
    expect(loo).toContain('+0.90 pp');
    expect(loo).toContain('-0.10 pp');
    expect(html).toContain('AUROC is 0.780');
    expect(/<table class="disagreement">[\s\S]*?<\/table>/.exec(html)![0]).toContain('3,800');
  });

  test('the chosen policy on the test set gets the accuracy, lift, flips and reliability charts', () => {
    for (const kind of ['accuracy', 'class-lift', 'flips', 'class-flips', 'reliability']) {
      const svg = chartSvg(html, kind, `tune-${kind}`);
      for (const n of geometryNumbers(svg)) expect(Number.isFinite(n)).toBe(true);
    }
    expect(html).toContain('policy saved to <code>best-policy.json</code>');
    expect(html).toContain(`All ${tune.candidates.length} candidates, by validation accuracy`);
  });

  test('eval and tune together: both sections, chart ids unique', () => {
    const both = renderReport({ eval: evalFixture(), tune, meta: meta() });
    const ids = [...both.matchAll(/<svg id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining(['eval-accuracy', 'eval-reliability', 'tune-frontier', 'tune-greedy', 'tune-reliability']),
    );
  });
});

describe('paretoFrontier', () => {
  test('keeps the candidates no cheaper candidate matches in accuracy', () => {
    const c = (name: string, forwardPasses: number, accuracy: number): TuneCandidate => ({
      name,
      forwardPasses,
      accuracy,
    });
    const frontier = paretoFrontier([
      c('a', 1, 0.6),
      c('b', 2, 0.65),
      c('c', 2, 0.62),
      c('d', 3, 0.64),
      c('e', 4, 0.7),
      c('f', 0.5, Number.NaN),
    ]);
    expect(frontier.map((x) => x.name)).toEqual(['a', 'b', 'e']);
  });
});

describe('escaping and missing values', () => {
  test('a hostile policy name and configuration are shown as text, never as markup', () => {
    const hostile = '<script>alert("x")</script>&<img src=x onerror=alert(1)>';
    const ev = evalFixture({ policyNames: [hostile, 'flip'] });
    const m = meta();
    m.config = { ...m.config, policies: [hostile], note: '"><svg onload=alert(1)>' };
    m.command = `tta eval --policy '${hostile}'`;
    const tune = tuneFixture();
    tune.candidates[3]!.name = hostile;
    tune.leaveOneOut![0]!.view = hostile;
    const html = renderReport({
      eval: ev,
      tune,
      meta: m,
      classNames: CIFAR10_CLASSES.map((c, k) => (k === 0 ? '<b>plane</b>' : c)),
    });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<svg onload/i);
    expect(html).not.toContain('<b>plane</b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;b&gt;plane&lt;/b&gt;');
    // Attribute values stay closed: every data-policy attribute is escaped.
    for (const m2 of html.matchAll(/data-policy="([^"]*)"/g)) expect(m2[1]).not.toMatch(/[<>]/);
  });

  test('NaN, null and missing optional fields render as "—" and leave no NaN in the geometry', () => {
    const ev = evalFixture();
    const p = ev.policies[1]!;
    p.perClass![2] = Number.NaN;
    p.perClass![3] = null;
    p.nll = Number.NaN;
    p.ece = null;
    delete p.timing;
    delete p.top5;
    p.lift = { mean: Number.NaN, ci95: [null, Number.NaN], mcnemarP: null };
    p.reliability![5] = { lo: 5 / 15, hi: 6 / 15, count: 10, confidence: null, accuracy: Number.NaN };
    p.flips!.perClass![0] = { correctToWrong: null, wrongToCorrect: Number.NaN };
    ev.policies[0]!.accuracy = { mean: Number.NaN, std: Number.NaN, runs: [] };
    ev.evaluationSeconds = undefined;
    const html = renderReport({ eval: ev, meta: { command: 'tta eval', generatedAt: 'now', versions: {} } });
    expect(html).not.toMatch(/NaN|undefined|null|Infinity/);
    for (const m of html.matchAll(/<svg[\s\S]*?<\/svg>/g))
      for (const n of geometryNumbers(m[0])) expect(Number.isFinite(n)).toBe(true);
    const row = /<tr class="highlight">[\s\S]*?<\/tr>/.exec(html)![0];
    expect(row).toContain('flip-shift');
    expect(row.match(/>—</g)!.length).toBeGreaterThanOrEqual(5); // lift, p, NLL, ECE, img/s
    // The NaN accuracy policy has no dot; the others keep theirs.
    expect(elements(chartSvg(html, 'accuracy'), 'circle').filter((c) => /dot-/.test(c.attrs.class ?? ''))).toHaveLength(
      ev.policies.length,
    );
    // Classes 2 and 3 have no lift bar.
    expect([
      ...elements(chartSvg(html, 'class-lift'), 'rect', 'bar-gain'),
      ...elements(chartSvg(html, 'class-lift'), 'rect', 'bar-loss'),
    ]).toHaveLength(8);
  });

  test('results after a JSON round trip (NaN becomes null) render the same charts', () => {
    const ev = evalFixture();
    ev.policies[0]!.perClass![0] = Number.NaN;
    const roundTripped = JSON.parse(JSON.stringify(ev)) as EvalReport;
    const a = renderReport({ eval: ev, meta: meta() });
    const b = renderReport({ eval: roundTripped, meta: meta() });
    expect(b).toBe(a);
  });

  test('class names: CIFAR-10 for cifar10 data, given names first, "class k" otherwise', () => {
    const ev = evalFixture();
    expect(texts(chartSvg(renderReport({ eval: ev, meta: meta() }), 'class-lift'), 'label')).toEqual(CIFAR10_CLASSES);
    const names = CIFAR10_CLASSES.map((c) => c.toUpperCase());
    expect(texts(chartSvg(renderReport({ eval: ev, meta: meta(), classNames: names }), 'class-lift'), 'label')).toEqual(
      names,
    );
    ev.data = { name: 'other' };
    expect(texts(chartSvg(renderReport({ eval: ev, meta: meta() }), 'class-lift'), 'label')[9]).toBe('class 9');
  });
});

describe('input validation', () => {
  const ok = (): ReportInput => ({ eval: evalFixture(), meta: meta() });
  test.each([
    ['input', () => null, /Expected an object \{ eval\?, tune\?, meta \} for input but received null/],
    ['meta', () => ({ ...ok(), meta: undefined }), /for input\.meta but received undefined/],
    [
      'command',
      () => ({ ...ok(), meta: { ...meta(), command: 3 } }),
      /Expected a string for input\.meta\.command but received 3 of type number/,
    ],
    ['neither', () => ({ meta: meta() }), /Expected eval or tune results for input/],
    [
      'schema',
      () => ({ ...ok(), eval: { ...evalFixture(), schema: 'tta-eval/2' } }),
      /Expected 'tta-eval\/1' for input\.eval\.schema but received 'tta-eval\/2'/,
    ],
    [
      'policy',
      () => ({ ...ok(), eval: { ...evalFixture(), policies: [{ name: 'x' }] } }),
      /for input\.eval\.policies\[0\]\.accuracy but received undefined/,
    ],
    [
      'tune',
      () => ({ tune: { ...tuneFixture(), candidates: 'all' }, meta: meta() }),
      /for input\.tune\.candidates but received 'all' of type string/,
    ],
    ['classNames', () => ({ ...ok(), classNames: [1, 2] }), /for input\.classNames but received Array of length 2/],
  ])('%s', (_, make, message) => {
    expect(() => renderReport(make() as ReportInput)).toThrow(TypeError);
    expect(() => renderReport(make() as ReportInput)).toThrow(message);
  });
});

describe('writeReport', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tta-report-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('writes the rendered document and leaves no temporary file', () => {
    const input: ReportInput = { eval: evalFixture(), meta: meta() };
    const file = path.join(dir, 'report.html');
    writeFileSync(file, 'old');
    writeReport(file, input);
    expect(readFileSync(file, 'utf8')).toBe(renderReport(input));
    expect(readdirSync(dir)).toEqual(['report.html']);
  });

  test('a failed render keeps the previous report and leaves no temporary file', () => {
    const file = path.join(dir, 'report.html');
    writeFileSync(file, 'previous report');
    expect(() => writeReport(file, { meta: meta() } as ReportInput)).toThrow(/eval or tune results/);
    expect(readFileSync(file, 'utf8')).toBe('previous report');
    expect(readdirSync(dir)).toEqual(['report.html']);
  });

  test('a failed write (the target is a directory) cleans up its temporary file', () => {
    const target = path.join(dir, 'taken');
    writeFileSync(path.join(dir, 'keep'), '');
    mkdirSync(path.join(target, 'inside'), { recursive: true });
    expect(() => writeReport(target, { eval: evalFixture(), meta: meta() })).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['keep', 'taken']);
  });

  test('rejects a missing file name', () => {
    expect(() => writeReport('', { eval: evalFixture(), meta: meta() })).toThrow(/Expected a file path for file/);
  });
});

describe('scales', () => {
  test('nice steps of 1, 2 or 5 x 10^k and ticks covering the domain', () => {
    expect(niceStep(0, 1, 5)).toBe(0.2);
    expect(niceStep(0.64, 0.74, 6)).toBeCloseTo(0.02, 12);
    const s = linearScale(0.643, 0.741, [100, 900], { ticks: 6 });
    expect(s.domain[0]).toBeLessThanOrEqual(0.643);
    expect(s.domain[1]).toBeGreaterThanOrEqual(0.741);
    expect(s(s.domain[0])).toBe(100);
    expect(s(s.domain[1])).toBe(900);
    expect(s.ticks[0]).toBeCloseTo(0.64, 12);
    for (let i = 1; i < s.ticks.length; i++) expect(s.ticks[i]! - s.ticks[i - 1]!).toBeCloseTo(0.02, 12);
    const flat = linearScale(0.5, 0.5, [0, 100]);
    expect(flat(0.5)).toBe(50);
  });

  test('a policy summary fixture sanity check: bestPolicy skips NaN accuracies', () => {
    const base = summary('none', 0.6, { seed: 1 });
    const a = summary('a', Number.NaN, { seed: 2, baseline: base });
    const b = summary('b', 0.61, { seed: 3, baseline: base });
    expect(bestPolicy([a, b])!.name).toBe('b');
    expect(bestPolicy([])).toBeUndefined();
  });
});
