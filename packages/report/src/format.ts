// Text for the report: escaping (policy names and configuration come from users)
// and number formats that show "—" for anything missing or not finite.
import type { MaybeNumber } from './types';

export const MISSING = '—';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in element content and in quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** The number when it is finite, else undefined (NaN, ±Infinity, null, undefined, non-numbers). */
export function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** 0.6912 -> "69.12%". */
export function pct(value: MaybeNumber, digits = 2): string {
  const v = finite(value);
  return v === undefined ? MISSING : `${(v * 100).toFixed(digits)}%`;
}

/** A difference of proportions in percentage points: 0.012 -> "+1.20 pp". */
export function pp(value: MaybeNumber, digits = 2): string {
  const v = finite(value);
  if (v === undefined) return MISSING;
  const text = (v * 100).toFixed(digits);
  return `${v > 0 && Number(text) !== 0 ? '+' : ''}${text} pp`;
}

export function fixed(value: MaybeNumber, digits = 4): string {
  const v = finite(value);
  return v === undefined ? MISSING : v.toFixed(digits);
}

export function integer(value: MaybeNumber): string {
  const v = finite(value);
  return v === undefined ? MISSING : Math.round(v).toLocaleString('en-US');
}

/** p-values: small ones in scientific notation, never rounded to a flat 0. */
export function pValue(value: MaybeNumber): string {
  const v = finite(value);
  if (v === undefined) return MISSING;
  if (v === 0) return '< 1e-300';
  if (v < 1e-3) return v.toExponential(1);
  return v.toFixed(v < 0.01 ? 4 : 3);
}

/** Compact general number for tick labels and counts. */
export function compact(value: number, step = 0): string {
  if (!Number.isFinite(value)) return MISSING;
  const decimals = step > 0 && step < 1 ? Math.min(6, Math.ceil(-Math.log10(step) - 1e-9)) : 0;
  const rounded = Number(value.toFixed(decimals));
  return Math.abs(rounded) >= 10000 ? Math.round(rounded).toLocaleString('en-US') : rounded.toFixed(decimals);
}

/** Forward passes per image: whole numbers as such, fractions (gated policies) to 2 places. */
export function passes(value: MaybeNumber): string {
  const v = finite(value);
  if (v === undefined) return MISSING;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** Shortens a label for a chart axis; the full text stays in the element's <title>. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}
