// Flag parsing on node:util's parseArgs, plus the checks that turn bad values into
// one-line errors naming the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `--json` takes an optional value: alone (or before another flag) it means stdout.
 * A negative number after a flag is its value (`--dx -2`), which parseArgs would otherwise
 * refuse as ambiguous before our range checks could name the flag and the range.
 */
export function normalizeOptionalValues(argv: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && !flags.includes(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
      continue;
    }
    out.push(arg);
    if (flags.includes(arg)) {
      if (next === undefined || (next.startsWith('-') && next !== '-')) out.push('-');
    }
  }
  return out;
}

/** Named so that declaration emit need not spell out @types/node's unexported helper types. */
export type ParsedFlags<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>
>['values'];

export function parseFlags<T extends Options>(argv: readonly string[], options: T, command: string): ParsedFlags<T> {
  try {
    return parseArgs({
      args: normalizeOptionalValues(argv, ['--json']),
      options,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UserError(
      `${(error as Error).message.replace(/\. To specify.*$/s, '')}\nRun 'tta ${command} --help' for the flags.`,
    );
  }
}

export function integerFlag(
  name: string,
  value: unknown,
  { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = Number(text);
  if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new UserError(`--${name} expects an integer ${range}, got '${text}'`);
  }
  return n;
}

export function numberFlag(
  name: string,
  value: unknown,
  { min = -Infinity, max = Infinity, exclusiveMin = false } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || (exclusiveMin && n === min) || n > max) {
    throw new UserError(
      `--${name} expects a number ${exclusiveMin ? '>' : '>='} ${min}${max < Infinity ? ` and <= ${max}` : ''}, got '${text}'`,
    );
  }
  return n;
}

export function choiceFlag<T extends string>(name: string, value: unknown, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T))
    throw new UserError(`--${name} must be one of ${choices.join(', ')}; got '${String(value)}'`);
  return value as T;
}

export function listFlag<T extends string>(name: string, value: unknown, choices: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UserError(`--${name} needs at least one of ${choices.join(', ')}`);
  for (const item of items) {
    if (!choices.includes(item as T)) throw new UserError(`--${name}: unknown '${item}'; valid: ${choices.join(', ')}`);
  }
  return items as T[];
}

/** parseFlags for a command that also takes plain arguments (file names). */
export function parseFlagsAndArguments<T extends Options>(
  argv: readonly string[],
  options: T,
  command: string,
): { flags: ParsedFlags<T>; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args: normalizeOptionalValues(argv, ['--json']),
      options,
      strict: true,
      allowPositionals: true,
    });
    return { flags: parsed.values as ParsedFlags<T>, positionals: parsed.positionals };
  } catch (error) {
    throw new UserError(
      `${(error as Error).message.replace(/\. To specify.*$/s, '')}\nRun 'tta ${command} --help' for the flags.`,
    );
  }
}
