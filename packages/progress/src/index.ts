// Long work reports progress through callbacks; this turns those reports into a
// redrawn bar on a TTY, occasional plain lines elsewhere (CI logs stay short and
// greppable), or nothing at all (--quiet, --json -).

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'quiet';

export interface ProgressOptions {
  /** What is being done, e.g. 'train epoch 1/3'. */
  label: string;
  /** Units of work in all (images, bytes...); unknown when omitted. */
  total?: number;
  /** Unit shown with the rate, e.g. 'img' or 'B'. */
  unit?: string;
  /** Default: process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** 'auto' (default) draws a bar on a TTY outside CI, plain lines otherwise. */
  mode?: ProgressMode;
  /** Minimum time between redraws (TTY) in ms. Default 100. */
  redrawMs?: number;
  /** Minimum time between plain lines in ms. Default 10000. */
  plainMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** When the work started, on the `now` clock (a bar made after the first report). Default: now. */
  startedAt?: number;
}

export function resolveMode(
  mode: ProgressMode | undefined,
  stream: { isTTY?: boolean },
): Exclude<ProgressMode, 'auto'> {
  if (mode && mode !== 'auto') return mode;
  const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
  return stream.isTTY && !ci ? 'tty' : 'plain';
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function formatCount(value: number, unit = ''): string {
  const abs = Math.abs(value);
  const [scaled, suffix] =
    abs >= 1e9 ? [value / 1e9, 'G'] : abs >= 1e6 ? [value / 1e6, 'M'] : abs >= 1e4 ? [value / 1e3, 'k'] : [value, ''];
  const digits = suffix === '' && Number.isInteger(scaled) ? 0 : scaled >= 100 ? 0 : 1;
  return `${scaled.toFixed(digits)}${suffix}${unit}`;
}

export class ProgressBar {
  readonly mode: Exclude<ProgressMode, 'auto'>;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastLineLength = 0;
  private done = 0;
  private fields: Record<string, string | number> = {};
  private finished = false;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.mode = resolveMode(options.mode, this.stream);
    this.now = options.now ?? (() => performance.now());
    this.start = options.startedAt ?? this.now();
  }

  /** Reports that `done` units are complete, with extra fields such as loss or accuracy. */
  update(done: number, fields?: Record<string, string | number>): void {
    this.done = done;
    if (fields) this.fields = { ...this.fields, ...fields };
    if (this.mode === 'quiet' || this.finished) return;
    const t = this.now();
    const interval = this.mode === 'tty' ? (this.options.redrawMs ?? 100) : (this.options.plainMs ?? 10000);
    if (t - this.lastDraw < interval) return;
    this.lastDraw = t;
    this.draw(false);
  }

  /** Draws the final state once and ends the line. */
  finish(fields?: Record<string, string | number>): void {
    if (this.finished) return;
    if (fields) this.fields = { ...this.fields, ...fields };
    this.finished = true;
    if (this.mode !== 'quiet') this.draw(true);
  }

  /** The line that would be shown now. */
  render(): string {
    const { label, total, unit = '' } = this.options;
    const elapsed = Math.max(1e-9, (this.now() - this.start) / 1000);
    const rate = this.done / elapsed;
    const parts = [label];
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, this.done / total);
      if (this.mode === 'tty') {
        const width = 24;
        const filled = Math.round(fraction * width);
        parts.push(`[${'='.repeat(filled)}${' '.repeat(width - filled)}]`);
      }
      parts.push(`${(fraction * 100).toFixed(0).padStart(3)}%`, `${formatCount(this.done)}/${formatCount(total)}`);
      parts.push(`${formatCount(rate, unit)}/s`);
      parts.push(
        this.done >= total ? `in ${formatDuration(elapsed)}` : `ETA ${formatDuration((total - this.done) / rate)}`,
      );
    } else {
      parts.push(formatCount(this.done, unit), `${formatCount(rate, unit)}/s`, formatDuration(elapsed));
    }
    for (const [key, value] of Object.entries(this.fields)) {
      parts.push(`${key} ${typeof value === 'number' ? formatField(value) : value}`);
    }
    return parts.join('  ');
  }

  private draw(final: boolean): void {
    let line = this.render();
    if (this.mode === 'tty') {
      const columns = this.stream.columns ?? 120;
      if (line.length > columns - 1) line = line.slice(0, columns - 1);
      const pad = Math.max(0, this.lastLineLength - line.length);
      this.stream.write(`\r${line}${' '.repeat(pad)}${final ? '\n' : ''}`);
      this.lastLineLength = line.length;
    } else {
      this.stream.write(`${line}\n`);
    }
  }
}

function formatField(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(4);
}
