// The report's charts, each a self-contained <svg> with a visible title, axes with
// tick labels, a legend where colours carry meaning, and an accessible name.
// Missing values (null/NaN) are left out of the geometry and labelled "—".
import { MISSING, compact, escapeHtml, finite, passes, pct, pp, truncate } from './format';
import { bottomAxis, chart, leftAxis, legend, linearScale, round1, textWidth, type LegendItem } from './svg';
import type { GreedyStep, MaybeNumber, PolicySummary, TuneCandidate, TuneReport } from './types';

export const CHART_WIDTH = 1040;
const NAME_CHARS = 34;

const pctTick = (v: number, step: number) => `${compact(v * 100, step * 100)}%`;
const ppTick = (v: number, step: number) => `${v > 0 ? '+' : ''}${compact(v * 100, step * 100)}`;

function labelWidth(labels: string[], min: number, max: number): number {
  return Math.min(max, Math.max(min, ...labels.map((l) => textWidth(truncate(l, NAME_CHARS)) + 18)));
}

/** A label that may be truncated on the chart, with the full text as a tooltip. */
function label(
  text: string,
  x: number,
  y: number,
  anchor: 'start' | 'middle' | 'end',
  cls = 'label',
  max = NAME_CHARS,
): string {
  const shown = truncate(text, max);
  const tip = shown === text ? '' : `<title>${escapeHtml(text)}</title>`;
  return `<text class="${cls}" x="${x}" y="${y}" text-anchor="${anchor}">${tip}${escapeHtml(shown)}</text>`;
}

export type ErrorBarKind = 'std' | 'lift-ci' | 'none';

/**
 * What the accuracy chart's error bars mean: the spread over repeated models when
 * there are several, else the paired bootstrap interval of the lift (placed around
 * the policy's accuracy), else nothing.
 */
export function errorBarKind(repeats: MaybeNumber, policies: PolicySummary[]): ErrorBarKind {
  if ((finite(repeats) ?? 1) > 1 && policies.some((p) => finite(p.accuracy.std) !== undefined)) return 'std';
  if (
    policies.some(
      (p) =>
        finite(p.lift?.ci95?.[0]) !== undefined &&
        finite(p.lift?.ci95?.[1]) !== undefined &&
        finite(p.lift?.mean) !== undefined,
    )
  )
    return 'lift-ci';
  return 'none';
}

function errorInterval(p: PolicySummary, kind: ErrorBarKind, isBaseline: boolean): [number, number] | undefined {
  const mean = finite(p.accuracy.mean);
  if (mean === undefined) return undefined;
  if (kind === 'std') {
    const std = finite(p.accuracy.std);
    return std === undefined ? undefined : [mean - std, mean + std];
  }
  if (kind === 'lift-ci' && !isBaseline) {
    const lift = finite(p.lift?.mean);
    const lo = finite(p.lift?.ci95?.[0]);
    const hi = finite(p.lift?.ci95?.[1]);
    if (lift === undefined || lo === undefined || hi === undefined) return undefined;
    return [mean - (lift - lo), mean + (hi - lift)];
  }
  return undefined;
}

/** Chart 1: a dot plot of accuracy per policy with error bars; the baseline is a dashed line. */
export function accuracyChart(
  id: string,
  baseline: PolicySummary,
  policies: PolicySummary[],
  repeats: MaybeNumber,
  bestName: string | undefined,
): string {
  const kind = errorBarKind(repeats, policies);
  const rows = [{ p: baseline, isBaseline: true }, ...policies.map((p) => ({ p, isBaseline: false }))];
  const left = labelWidth(
    rows.map((r) => r.p.name),
    110,
    290,
  );
  const right = CHART_WIDTH - 190;
  const top = 52;
  const rowHeight = 28;
  const bottom = top + rows.length * rowHeight + 8;
  const values: number[] = [];
  for (const r of rows) {
    const m = finite(r.p.accuracy.mean);
    if (m !== undefined) values.push(m);
    const e = errorInterval(r.p, kind, r.isBaseline);
    if (e) values.push(...e);
  }
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  const pad = Math.max(hi - lo, 0.005) * 0.12;
  const x = linearScale(Math.max(0, lo - pad), Math.min(1, hi + pad), [left, right], { ticks: 6 });
  let body = legend(
    [
      { label: 'baseline (no TTA)', swatch: 'dot-baseline', shape: 'circle' },
      { label: 'policy', swatch: 'dot-policy', shape: 'circle' },
      { label: 'best policy', swatch: 'dot-best', shape: 'circle' },
      {
        label:
          kind === 'std'
            ? 'error bar: ± 1 std over repeats'
            : kind === 'lift-ci'
              ? 'error bar: 95% bootstrap CI of the lift'
              : 'no error bars (one run, no CI)',
        swatch: 'whisker',
        shape: 'line',
      },
    ],
    left,
    36,
  );
  body += bottomAxis(x, bottom, top - 6, pctTick, 'test accuracy');
  const baseMean = finite(baseline.accuracy.mean);
  if (baseMean !== undefined) {
    const bx = x(baseMean);
    body += `<line class="baseline-line" x1="${bx}" y1="${top - 6}" x2="${bx}" y2="${bottom}"/>`;
  }
  rows.forEach((r, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    const isBest = !r.isBaseline && r.p.name === bestName;
    body += `<g class="row${isBest ? ' best' : ''}" data-policy="${escapeHtml(r.p.name)}">`;
    if (i % 2 === 0)
      body += `<rect class="band" x="0" y="${cy - rowHeight / 2}" width="${CHART_WIDTH}" height="${rowHeight}"/>`;
    body += label(
      r.isBaseline ? `${r.p.name} (baseline)` : r.p.name,
      left - 10,
      round1(cy + 4),
      'end',
      isBest ? 'label strong' : 'label',
    );
    const mean = finite(r.p.accuracy.mean);
    const err = errorInterval(r.p, kind, r.isBaseline);
    if (err) {
      const [x0, x1] = [x(Math.max(x.domain[0], err[0])), x(Math.min(x.domain[1], err[1]))];
      body += `<line class="whisker" x1="${x0}" y1="${cy}" x2="${x1}" y2="${cy}"/><line class="whisker" x1="${x0}" y1="${cy - 5}" x2="${x0}" y2="${cy + 5}"/><line class="whisker" x1="${x1}" y1="${cy - 5}" x2="${x1}" y2="${cy + 5}"/>`;
    }
    let valueText = MISSING;
    if (mean !== undefined) {
      body += `<circle class="${r.isBaseline ? 'dot-baseline' : isBest ? 'dot-best' : 'dot-policy'}" cx="${x(mean)}" cy="${cy}" r="6"><title>${escapeHtml(`${r.p.name}: ${pct(mean)}`)}</title></circle>`;
      valueText = pct(mean);
      if (kind === 'std' && finite(r.p.accuracy.std) !== undefined) valueText += ` ± ${pct(r.p.accuracy.std)}`;
      else if (!r.isBaseline) valueText += ` (${pp(r.p.lift?.mean)})`;
    }
    body += `<text class="value" x="${right + 16}" y="${round1(cy + 4)}">${escapeHtml(valueText)}</text></g>`;
  });
  const what =
    kind === 'std'
      ? 'error bars show one standard deviation over repeated models'
      : kind === 'lift-ci'
        ? 'error bars show the 95% bootstrap interval of the lift over the baseline'
        : 'no error bars';
  return chart(
    {
      id,
      kind: 'accuracy',
      width: CHART_WIDTH,
      height: bottom + 44,
      title: 'Test accuracy per policy',
      description: `Accuracy of ${policies.length} policies and the baseline; ${what}.`,
    },
    body,
  );
}

/** Chart 2: per-class lift (policy minus baseline accuracy) as bars around zero. */
export function classLiftChart(
  id: string,
  baseline: PolicySummary,
  policy: PolicySummary,
  classNames: string[],
): string {
  const classes = Math.max(classNames.length, policy.perClass?.length ?? 0, baseline.perClass?.length ?? 0);
  const lifts = Array.from({ length: classes }, (_, k) => {
    const a = finite(policy.perClass?.[k]);
    const b = finite(baseline.perClass?.[k]);
    return a === undefined || b === undefined ? undefined : a - b;
  });
  const known = lifts.filter((v): v is number => v !== undefined);
  const left = 70;
  const right = CHART_WIDTH - 20;
  const top = 44;
  const bottom = 290;
  const y = linearScale(Math.min(0, ...known) - 0.002, Math.max(0, ...known) + 0.002, [bottom, top], { ticks: 6 });
  const band = (right - left) / Math.max(1, classes);
  let body = legend(
    [
      { label: 'TTA helps', swatch: 'bar-gain' },
      { label: 'TTA hurts', swatch: 'bar-loss' },
    ],
    left,
    34,
  );
  body += leftAxis(y, left, right, ppTick, 'lift (pp)');
  const zero = y(0);
  lifts.forEach((v, k) => {
    const cx = round1(left + band * (k + 0.5));
    const name = classNames[k] ?? `class ${k}`;
    body += label(name, cx, bottom + 18, 'middle', 'label', Math.max(4, Math.floor(band / 7)));
    if (v === undefined) {
      body += `<text class="value" x="${cx}" y="${round1(zero - 6)}" text-anchor="middle">${MISSING}</text>`;
      return;
    }
    const yv = y(v);
    const w = round1(Math.min(56, band * 0.62));
    body += `<rect class="${v >= 0 ? 'bar-gain' : 'bar-loss'}" x="${round1(cx - w / 2)}" y="${Math.min(yv, zero)}" width="${w}" height="${Math.max(0.5, round1(Math.abs(zero - yv)))}" data-value="${v}"><title>${escapeHtml(`${name}: ${pp(v)}`)}</title></rect>`;
    body += `<text class="value" x="${cx}" y="${round1(v >= 0 ? yv - 5 : yv + 14)}" text-anchor="middle">${escapeHtml(pp(v, 1).replace(' pp', ''))}</text>`;
  });
  body += `<line class="zero-line" x1="${left}" y1="${zero}" x2="${right}" y2="${zero}"/>`;
  return chart(
    {
      id,
      kind: 'class-lift',
      width: CHART_WIDTH,
      height: bottom + 30,
      title: `Per-class lift: ${truncate(policy.name, 60)} minus baseline`,
      description: `Accuracy of ${policy.name} minus the baseline's accuracy for each of ${classes} classes, in percentage points.`,
    },
    body,
  );
}

export interface FlipRow {
  label: string;
  correctToWrong: MaybeNumber;
  wrongToCorrect: MaybeNumber;
  highlight?: boolean;
}

/** Chart 3: flips against the baseline as diverging bars, losses left and gains right. */
export function flipsChart(id: string, kind: string, title: string, rows: FlipRow[]): string {
  const left = labelWidth(
    rows.map((r) => r.label),
    100,
    290,
  );
  const right = CHART_WIDTH - 120;
  const top = 52;
  const rowHeight = 26;
  const bottom = top + rows.length * rowHeight + 8;
  const most = Math.max(1, ...rows.flatMap((r) => [finite(r.correctToWrong) ?? 0, finite(r.wrongToCorrect) ?? 0]));
  const x = linearScale(-most, most, [left, right], { ticks: 8 });
  let body = legend(
    [
      { label: 'wrong → correct (fixed by TTA)', swatch: 'bar-gain' },
      { label: 'correct → wrong (broken by TTA)', swatch: 'bar-loss' },
    ],
    left,
    36,
  );
  body += bottomAxis(x, bottom, top - 6, (v, step) => compact(Math.abs(v), step), 'images (pooled over repeats)');
  const zero = x(0);
  rows.forEach((r, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    body += `<g class="row" data-label="${escapeHtml(r.label)}">`;
    if (i % 2 === 0)
      body += `<rect class="band" x="0" y="${cy - rowHeight / 2}" width="${CHART_WIDTH}" height="${rowHeight}"/>`;
    body += label(r.label, left - 10, round1(cy + 4), 'end', r.highlight ? 'label strong' : 'label');
    const loss = finite(r.correctToWrong);
    const gain = finite(r.wrongToCorrect);
    const h = rowHeight - 10;
    if (loss !== undefined) {
      const x0 = x(-loss);
      body += `<rect class="bar-loss" x="${x0}" y="${cy - h / 2}" width="${Math.max(0.5, round1(zero - x0))}" height="${h}" data-value="${loss}"><title>${escapeHtml(`${r.label}: ${loss} correct → wrong`)}</title></rect>`;
      body += `<text class="value" x="${round1(x0 - 4)}" y="${round1(cy + 4)}" text-anchor="end">${compact(loss)}</text>`;
    }
    if (gain !== undefined) {
      const x1 = x(gain);
      body += `<rect class="bar-gain" x="${zero}" y="${cy - h / 2}" width="${Math.max(0.5, round1(x1 - zero))}" height="${h}" data-value="${gain}"><title>${escapeHtml(`${r.label}: ${gain} wrong → correct`)}</title></rect>`;
      body += `<text class="value" x="${round1(x1 + 4)}" y="${round1(cy + 4)}">${compact(gain)}</text>`;
    }
    const net = loss !== undefined && gain !== undefined ? gain - loss : undefined;
    body += `<text class="value net" x="${CHART_WIDTH - 8}" y="${round1(cy + 4)}" text-anchor="end">${net === undefined ? MISSING : `net ${net > 0 ? '+' : ''}${compact(net)}`}</text></g>`;
  });
  body += `<line class="zero-line" x1="${zero}" y1="${top - 6}" x2="${zero}" y2="${bottom}"/>`;
  return chart(
    {
      id,
      kind,
      width: CHART_WIDTH,
      height: bottom + 44,
      title,
      description: `${title}: for each row, images the baseline got wrong and TTA got right, and the reverse.`,
    },
    body,
  );
}

/** Chart 4: reliability diagrams side by side (accuracy against confidence per bin). */
export function reliabilityChart(id: string, panels: { label: string; summary: PolicySummary }[]): string {
  const panelWidth = CHART_WIDTH / Math.max(1, panels.length);
  const size = Math.min(330, panelWidth - 110);
  const top = 56;
  const histHeight = 50;
  let body = legend(
    [
      { label: 'accuracy per bin (opacity ∝ images)', swatch: 'bar-rel' },
      { label: 'mean confidence → accuracy', swatch: 'rel-line', shape: 'line' },
      { label: 'perfect calibration', swatch: 'diagonal', shape: 'dash' },
    ],
    70,
    34,
  );
  panels.forEach((panel, i) => {
    const left = round1(i * panelWidth + 70);
    const right = left + size;
    const bottom = top + 20 + size;
    const x = linearScale(0, 1, [left, right], { ticks: 5 });
    const y = linearScale(0, 1, [bottom, top + 20], { ticks: 5 });
    const bins = (panel.summary.reliability ?? []).filter(
      (b) => finite(b.lo) !== undefined && finite(b.hi) !== undefined,
    );
    const maxCount = Math.max(1, ...bins.map((b) => finite(b.count) ?? 0));
    const total = bins.reduce((a, b) => a + (finite(b.count) ?? 0), 0);
    body += `<g class="panel" data-panel="${escapeHtml(panel.label)}">`;
    body += label(
      `${panel.label}: ${panel.summary.name} (ECE ${pct(panel.summary.ece)})`,
      left,
      top + 8,
      'start',
      'panel-title',
      58,
    );
    body += leftAxis(y, left, right, pctTick, 'accuracy');
    body += `<line class="diagonal" x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}"/>`;
    const points: string[] = [];
    for (const b of bins) {
      const count = finite(b.count) ?? 0;
      const acc = finite(b.accuracy);
      const conf = finite(b.confidence);
      const x0 = x(b.lo);
      const w = Math.max(0.5, round1(x(b.hi) - x0 - 1));
      if (count > 0 && acc !== undefined) {
        const opacity = (0.25 + (0.75 * count) / maxCount).toFixed(2);
        body += `<rect class="bar-rel" x="${x0}" y="${y(acc)}" width="${w}" height="${Math.max(0.5, round1(bottom - y(acc)))}" fill-opacity="${opacity}" data-count="${count}"><title>${escapeHtml(`(${b.lo.toFixed(2)}, ${b.hi.toFixed(2)}]: ${count} images, accuracy ${pct(acc)}, confidence ${pct(conf)}`)}</title></rect>`;
        if (conf !== undefined) points.push(`${x(conf)},${y(acc)}`);
      }
      // Image counts as a histogram under the diagram.
      const hh = round1(((histHeight - 8) * count) / maxCount);
      if (count > 0)
        body += `<rect class="bar-hist" x="${x0}" y="${round1(bottom + 42 + histHeight - hh)}" width="${w}" height="${Math.max(0.5, hh)}" data-count="${count}"/>`;
    }
    if (points.length)
      body +=
        `<polyline class="rel-line" points="${points.join(' ')}"/>` +
        points.map((p) => `<circle class="rel-dot" cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3"/>`).join('');
    if (!bins.length)
      body += `<text class="value" x="${round1((left + right) / 2)}" y="${round1((top + bottom) / 2)}" text-anchor="middle">no reliability data ${MISSING}</text>`;
    body += bottomAxis(x, bottom, top + 20, pctTick);
    body += `<line class="axis-thin" x1="${left}" y1="${bottom + 42 + histHeight}" x2="${right}" y2="${bottom + 42 + histHeight}"/>`;
    body += `<text class="axis-label" x="${round1((left + right) / 2)}" y="${bottom + 34}" text-anchor="middle">confidence (top score)</text>`;
    body += `<text class="tick" x="${left - 7}" y="${bottom + 42 + histHeight - 4}" text-anchor="end">images</text>`;
    body += `<text class="tick" x="${right + 6}" y="${bottom + 50}">max ${compact(maxCount)}</text>`;
    body += `<text class="tick" x="${right + 6}" y="${bottom + 64}">of ${compact(total)}</text></g>`;
  });
  const height = top + 20 + size + 42 + histHeight + 12;
  return chart(
    {
      id,
      kind: 'reliability',
      width: CHART_WIDTH,
      height,
      title: 'Reliability diagram',
      description: `Accuracy against confidence in equal-width bins for ${panels.map((p) => p.summary.name).join(' and ')}; the diagonal is perfect calibration; the histogram shows images per bin.`,
    },
    body,
  );
}

/** Candidates that no other candidate beats on both cost (fewer passes) and accuracy. */
export function paretoFrontier(candidates: TuneCandidate[]): TuneCandidate[] {
  const usable = candidates.filter((c) => finite(c.forwardPasses) !== undefined && finite(c.accuracy) !== undefined);
  usable.sort((a, b) => a.forwardPasses! - b.forwardPasses! || b.accuracy! - a.accuracy!);
  const frontier: TuneCandidate[] = [];
  for (const c of usable)
    if (!frontier.length || c.accuracy! > frontier[frontier.length - 1]!.accuracy!) frontier.push(c);
  return frontier;
}

/** The candidate `tune.best` refers to (same name and cost), if it is in the list. */
export function chosenCandidate(tune: TuneReport): TuneCandidate {
  return (
    tune.candidates.find((c) => c.name === tune.best.name && c.forwardPasses === tune.best.forwardPasses) ??
    tune.candidates.find((c) => c.name === tune.best.name) ??
    tune.best
  );
}

/** Chart 5: every candidate's cost and validation accuracy, the Pareto frontier, the choice. */
export function frontierChart(id: string, tune: TuneReport): string {
  const left = 80;
  const right = CHART_WIDTH - 30;
  const top = 50;
  const bottom = 430;
  const usable = tune.candidates.filter(
    (c) => finite(c.forwardPasses) !== undefined && finite(c.accuracy) !== undefined,
  );
  const chosen = chosenCandidate(tune);
  const costs = usable.map((c) => c.forwardPasses as number);
  const accs = usable.map((c) => c.accuracy as number);
  const x = linearScale(Math.min(1, ...costs) - 0.5, Math.max(2, ...costs) + 0.5, [left, right], { ticks: 10 });
  const accLo = accs.length ? Math.min(...accs) : 0;
  const accHi = accs.length ? Math.max(...accs) : 1;
  const pad = Math.max(accHi - accLo, 0.005) * 0.08;
  const y = linearScale(accLo - pad, accHi + pad, [bottom, top], { ticks: 6 });
  const items: LegendItem[] = [
    { label: 'candidate', swatch: 'dot-candidate', shape: 'circle' },
    { label: 'confidence-gated candidate', swatch: 'dot-gated', shape: 'circle' },
    { label: 'Pareto frontier', swatch: 'frontier', shape: 'line' },
    { label: 'chosen policy', swatch: 'dot-best', shape: 'circle' },
  ];
  const plain = usable.find((c) => c.viewSpec === 'id' && !c.gate);
  if (plain) items.push({ label: 'no TTA', swatch: 'baseline-line', shape: 'dash' });
  let body = legend(items, left, 34);
  body += bottomAxis(x, bottom, top, (v, step) => compact(v, step), 'forward passes per image (validation)');
  body += leftAxis(y, left, right, pctTick, 'validation accuracy');
  if (plain) {
    const py = y(plain.accuracy as number);
    body += `<line class="baseline-line" x1="${left}" y1="${py}" x2="${right}" y2="${py}"/><text class="tick" x="${right - 4}" y="${round1(py - 5)}" text-anchor="end">no TTA ${escapeHtml(pct(plain.accuracy))}</text>`;
  }
  for (const c of usable) {
    const cls = c.gate ? 'dot-gated' : 'dot-candidate';
    body += `<circle class="${cls}" cx="${x(c.forwardPasses as number)}" cy="${y(c.accuracy as number)}" r="4"><title>${escapeHtml(`${c.name}: ${pct(c.accuracy)}, NLL ${finite(c.nll)?.toFixed(4) ?? MISSING}, ${passes(c.forwardPasses)} passes`)}</title></circle>`;
  }
  const frontier = paretoFrontier(tune.candidates);
  if (frontier.length) {
    let d = `M${x(frontier[0]!.forwardPasses!)},${y(frontier[0]!.accuracy!)}`;
    for (const c of frontier.slice(1)) d += ` H${x(c.forwardPasses!)} V${y(c.accuracy!)}`;
    d += ` H${right}`;
    body += `<path class="frontier" d="${d}"/>`;
    body += frontier
      .map((c) => `<circle class="dot-frontier" cx="${x(c.forwardPasses!)}" cy="${y(c.accuracy!)}" r="4.5"/>`)
      .join('');
  }
  const cc = finite(chosen.forwardPasses);
  const ca = finite(chosen.accuracy);
  if (cc !== undefined && ca !== undefined) {
    const px = x(cc);
    const py = y(ca);
    const onRight = px < (left + right) / 2;
    body += `<circle class="dot-best" cx="${px}" cy="${py}" r="7"/><circle class="ring-best" cx="${px}" cy="${py}" r="12"/>`;
    body += label(
      `chosen: ${chosen.name} (${pct(ca)}, ${passes(cc)} passes)`,
      round1(onRight ? px + 16 : px - 16),
      round1(py - 14),
      onRight ? 'start' : 'end',
      'label strong',
      70,
    );
  }
  return chart(
    {
      id,
      kind: 'frontier',
      width: CHART_WIDTH,
      height: bottom + 46,
      title: 'Cost and accuracy of the candidate policies (validation)',
      description: `${usable.length} candidate policies by forward passes per image and validation accuracy, with the Pareto frontier and the chosen policy ${tune.best.name}.`,
    },
    body,
  );
}

/** The greedy forward selection: validation accuracy and NLL as views are added. */
export function greedyChart(id: string, steps: GreedyStep[]): string {
  const usable = steps.filter((s) => finite(s.size) !== undefined);
  const sizes = usable.map((s) => s.size as number);
  const panels: { key: 'accuracy' | 'nll'; title: string; format: (v: number, step: number) => string }[] = [
    { key: 'accuracy', title: 'validation accuracy', format: pctTick },
    { key: 'nll', title: 'validation NLL (lower is better)', format: (v, step) => compact(v, step) },
  ];
  const panelWidth = CHART_WIDTH / 2;
  const top = 60;
  const bottom = 330;
  let body = '';
  panels.forEach((panel, i) => {
    const left = round1(i * panelWidth + 80);
    const right = round1((i + 1) * panelWidth - 40);
    const values = usable.map((s) => finite(s[panel.key])).filter((v): v is number => v !== undefined);
    const lo = values.length ? Math.min(...values) : 0;
    const hi = values.length ? Math.max(...values) : 1;
    const pad = Math.max(hi - lo, 1e-3) * 0.1;
    const x = linearScale(Math.min(1, ...sizes) - 0.5, Math.max(2, ...sizes) + 0.5, [left, right], {
      ticks: Math.min(10, Math.max(2, sizes.length)),
    });
    const y = linearScale(lo - pad, hi + pad, [bottom, top], { ticks: 5 });
    body += `<g class="panel" data-panel="${panel.key}"><text class="panel-title" x="${left}" y="${top - 14}">${escapeHtml(panel.title)}</text>`;
    body += leftAxis(y, left, right, panel.format);
    body += bottomAxis(x, bottom, top, (v) => (Number.isInteger(v) ? String(v) : ''), 'views in the policy');
    const pts = usable
      .filter((s) => finite(s[panel.key]) !== undefined)
      .map((s) => ({ s, px: x(s.size as number), py: y(s[panel.key] as number) }));
    if (pts.length) body += `<polyline class="greedy-line" points="${pts.map((p) => `${p.px},${p.py}`).join(' ')}"/>`;
    for (const p of pts) {
      const specs = p.s.viewSpec?.split(',') ?? [];
      const added = specs.length > 1 ? `+${specs[specs.length - 1]}` : (specs[0] ?? '');
      body += `<circle class="dot-policy" cx="${p.px}" cy="${p.py}" r="4.5"><title>${escapeHtml(`${p.s.size} views (${p.s.viewSpec ?? MISSING}): accuracy ${pct(p.s.accuracy)}, NLL ${finite(p.s.nll)?.toFixed(4) ?? MISSING}`)}</title></circle>`;
      if (added)
        body += `<text class="tick added" x="${round1(p.px + 4)}" y="${round1(p.py - 8)}" transform="rotate(-35 ${round1(p.px + 4)} ${round1(p.py - 8)})">${escapeHtml(truncate(added, 15))}</text>`;
    }
    body += '</g>';
  });
  return chart(
    {
      id,
      kind: 'greedy',
      width: CHART_WIDTH,
      height: bottom + 46,
      title: 'Greedy forward selection of views (validation)',
      description: `Validation accuracy and NLL after each of ${usable.length} greedy steps, each adding the view that most lowers the NLL.`,
    },
    body,
  );
}

/**
 * The weights a learned merge gave each view: one bar per view, or for a per-class merge the
 * mean over classes with a whisker from the smallest to the largest class weight. The dashed
 * line is the uniform weight 1/views (what a plain geometric mean would give).
 */
export function learnedWeightsChart(id: string, candidate: TuneCandidate, classNames: string[]): string {
  const learned = candidate.learned!;
  const views = learned.views ?? [];
  const V = views.length || (learned.shape === 'view' ? learned.weights.length : 1);
  const K = learned.shape === 'view' ? 1 : Math.max(1, Math.round(learned.weights.length / V));
  const rows = Array.from({ length: V }, (_, v) => {
    const values = Array.from({ length: K }, (_, k) => finite(learned.weights[v * K + k])).filter(
      (w): w is number => w !== undefined,
    );
    const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
    let lo = 0;
    let hi = 0;
    values.forEach((w, k) => {
      if (w < values[lo]!) lo = k;
      if (w > values[hi]!) hi = k;
    });
    return { label: views[v] ?? `view ${v + 1}`, values, mean, lo, hi };
  });
  const left = labelWidth(
    rows.map((r) => r.label),
    90,
    260,
  );
  const right = CHART_WIDTH - 140;
  const top = 52;
  const rowHeight = 24;
  const bottom = top + rows.length * rowHeight + 8;
  const most = Math.max(1 / V, ...rows.flatMap((r) => r.values));
  const x = linearScale(0, most, [left, right], { ticks: 6 });
  const perClass = learned.shape !== 'view';
  let body = legend(
    [
      { label: perClass ? 'mean weight over classes' : 'weight', swatch: 'bar-gain' },
      { label: `uniform (1/${V})`, swatch: 'baseline-line', shape: 'dash' },
    ],
    left,
    36,
  );
  body += bottomAxis(x, bottom, top - 6, pctTick, 'weight in the merged log-probabilities');
  rows.forEach((r, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    body += `<g class="row" data-label="${escapeHtml(r.label)}">`;
    if (i % 2 === 0)
      body += `<rect class="band" x="0" y="${cy - rowHeight / 2}" width="${CHART_WIDTH}" height="${rowHeight}"/>`;
    body += label(r.label, left - 10, round1(cy + 4), 'end');
    if (r.mean !== undefined) {
      const h = rowHeight - 10;
      const tip = perClass
        ? `${r.label}: mean ${pct(r.mean, 1)}, lowest ${pct(r.values[r.lo], 1)} (${classNames[r.lo] ?? r.lo}), highest ${pct(r.values[r.hi], 1)} (${classNames[r.hi] ?? r.hi})`
        : `${r.label}: ${pct(r.mean, 1)}`;
      body += `<rect class="bar-gain" x="${left}" y="${cy - h / 2}" width="${Math.max(0.5, round1(x(r.mean) - left))}" height="${h}" data-value="${r.mean}"><title>${escapeHtml(tip)}</title></rect>`;
      if (perClass && r.values.length > 1)
        body += `<line class="whisker" x1="${x(r.values[r.lo]!)}" y1="${cy}" x2="${x(r.values[r.hi]!)}" y2="${cy}"/>`;
      body += `<text class="value" x="${round1(Math.max(x(r.mean), perClass ? x(r.values[r.hi]!) : 0) + 6)}" y="${round1(cy + 4)}">${escapeHtml(pct(r.mean, 1))}</text>`;
    } else {
      body += `<text class="value" x="${left + 6}" y="${round1(cy + 4)}">${MISSING}</text>`;
    }
    body += '</g>';
  });
  const uniform = x(1 / V);
  body += `<line class="baseline-line" x1="${uniform}" y1="${top - 6}" x2="${uniform}" y2="${bottom}"/>`;
  const title = `Learned weights per view: ${candidate.name}`;
  return chart(
    {
      id,
      kind: 'learned-weights',
      width: CHART_WIDTH,
      height: bottom + 44,
      title,
      description: `${title}. Each bar is a view's weight in the merged log-probabilities (weights sum to 1${perClass ? ' per class; bars are means over classes, whiskers the range' : ''}); the dashed line is the uniform weight.`,
    },
    body,
  );
}
