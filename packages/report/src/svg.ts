// Small hand-written SVG building blocks: linear scales with "nice" ticks, axes
// with tick labels and grid lines, and the chart frame (title, accessible name).
// Coordinates are rounded to 0.1 px so the markup stays short.
import { compact, escapeHtml } from './format';

export interface LinearScale {
  (value: number): number;
  /** Domain after extending to nice tick values. */
  readonly domain: [number, number];
  readonly range: [number, number];
  readonly ticks: number[];
  readonly step: number;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Tick step of 1, 2 or 5 x 10^k giving about `count` ticks over [lo, hi]. */
export function niceStep(lo: number, hi: number, count: number): number {
  const span = hi - lo;
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

/**
 * A linear map from [lo, hi] (widened to whole tick steps unless `exact`) to the
 * pixel range. An empty or degenerate domain becomes a small window around it.
 */
export function linearScale(
  lo: number,
  hi: number,
  range: [number, number],
  options: { ticks?: number; exact?: boolean } = {},
): LinearScale {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(lo, hi, options.ticks ?? 5);
  const d0 = options.exact ? lo : Math.floor(lo / step + 1e-9) * step;
  const d1 = options.exact ? hi : Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(d0 / step - 1e-9) * step; t <= d1 + step * 1e-6; t += step) ticks.push(Number(t.toFixed(12)));
  const [r0, r1] = range;
  const scale = ((value: number) => round1(r0 + ((value - d0) / (d1 - d0)) * (r1 - r0))) as LinearScale;
  Object.assign(scale, { domain: [d0, d1], range, ticks, step });
  return scale;
}

export interface Frame {
  id: string;
  kind: string;
  width: number;
  height: number;
  /** Shown at the top of the chart and used as its accessible name. */
  title: string;
  /** A sentence for screen readers describing what the chart shows. */
  description: string;
}

export function chart(frame: Frame, body: string): string {
  const { id, kind, width, height, title, description } = frame;
  return (
    `<svg id="${escapeHtml(id)}" data-chart="${escapeHtml(kind)}" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${escapeHtml(id)}-title ${escapeHtml(id)}-desc" aria-label="${escapeHtml(title)}">` +
    `<title id="${escapeHtml(id)}-title">${escapeHtml(title)}</title><desc id="${escapeHtml(id)}-desc">${escapeHtml(description)}</desc>` +
    `<text class="chart-title" x="0" y="16">${escapeHtml(title)}</text>${body}</svg>`
  );
}

export type TickFormat = (value: number, step: number) => string;

export const defaultTickFormat: TickFormat = (v, step) => compact(v, step);

/** Horizontal axis at y from x0..x1 with vertical grid lines up to gridTop. */
export function bottomAxis(
  scale: LinearScale,
  y: number,
  gridTop: number | undefined,
  format: TickFormat = defaultTickFormat,
  label?: string,
): string {
  const [x0, x1] = scale.range;
  let out = `<g class="axis"><line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}"/>`;
  for (const t of scale.ticks) {
    const x = scale(t);
    if (gridTop !== undefined) out += `<line class="grid" x1="${x}" y1="${gridTop}" x2="${x}" y2="${y}"/>`;
    out += `<line x1="${x}" y1="${y}" x2="${x}" y2="${y + 4}"/><text class="tick" x="${x}" y="${y + 16}" text-anchor="middle">${escapeHtml(format(t, scale.step))}</text>`;
  }
  if (label)
    out += `<text class="axis-label" x="${round1((x0 + x1) / 2)}" y="${y + 34}" text-anchor="middle">${escapeHtml(label)}</text>`;
  return `${out}</g>`;
}

/** Vertical axis at x from the scale's range with horizontal grid lines to gridRight. */
export function leftAxis(
  scale: LinearScale,
  x: number,
  gridRight: number | undefined,
  format: TickFormat = defaultTickFormat,
  label?: string,
): string {
  const [y0, y1] = scale.range;
  let out = `<g class="axis"><line x1="${x}" y1="${y0}" x2="${x}" y2="${y1}"/>`;
  for (const t of scale.ticks) {
    const y = scale(t);
    if (gridRight !== undefined) out += `<line class="grid" x1="${x}" y1="${y}" x2="${gridRight}" y2="${y}"/>`;
    out += `<line x1="${x - 4}" y1="${y}" x2="${x}" y2="${y}"/><text class="tick" x="${x - 7}" y="${round1(y + 4)}" text-anchor="end">${escapeHtml(format(t, scale.step))}</text>`;
  }
  if (label) {
    const cy = round1((y0 + y1) / 2);
    out += `<text class="axis-label" x="${x - 44}" y="${cy}" text-anchor="middle" transform="rotate(-90 ${x - 44} ${cy})">${escapeHtml(label)}</text>`;
  }
  return `${out}</g>`;
}

export interface LegendItem {
  label: string;
  /** CSS class of the swatch (fill colour). */
  swatch: string;
  shape?: 'rect' | 'circle' | 'line' | 'dash';
}

/** A row of legend entries starting at (x, y); widths estimated from the text length. */
export function legend(items: LegendItem[], x: number, y: number): string {
  let out = '<g class="legend">';
  let cx = x;
  for (const item of items) {
    const shape = item.shape ?? 'rect';
    if (shape === 'circle') out += `<circle class="${item.swatch}" cx="${cx + 6}" cy="${y - 4}" r="5"/>`;
    else if (shape === 'line' || shape === 'dash')
      out += `<line class="${item.swatch}" x1="${cx}" y1="${y - 4}" x2="${cx + 14}" y2="${y - 4}"/>`;
    else out += `<rect class="${item.swatch}" x="${cx}" y="${y - 10}" width="12" height="12" rx="2"/>`;
    out += `<text x="${cx + 19}" y="${y}">${escapeHtml(item.label)}</text>`;
    cx += 19 + textWidth(item.label) + 18;
  }
  return `${out}</g>`;
}

/** Rough width in px of text at the charts' 12 px system font. */
export function textWidth(text: string, size = 12): number {
  return Math.ceil(text.length * size * 0.56);
}
