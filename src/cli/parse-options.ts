import { UsageError } from '../core/errors.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "1500ms", "5s", "2m", "1h", "30d"; a bare number means seconds (as curl's and pssh's timeouts do). */
export function parseDurationMs(value: string, flag: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) throw new UsageError(`${flag}: "${value}" is not a duration (e.g. 1500ms, 5s, 2m)`);
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS];
  if (!(ms > 0)) throw new UsageError(`${flag}: duration must be greater than zero, got "${value}"`);
  return Math.round(ms);
}

export function parseIntOption(
  value: string,
  flag: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag}: "${value}" is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${flag}: ${n} is out of range (${min}..${max})`);
  return n;
}

export function parsePositiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: "${value}" is not a positive number`);
  return n;
}

/**
 * Check arguments from `-a key=value` (repeatable) and `--args-json '{...}'`; `-a` wins on conflict.
 * Values stay strings: each check's schema coerces them.
 */
export function parseCheckArgs(pairs: readonly string[], json: string | undefined): Record<string, unknown> {
  let args: Record<string, unknown> = {};
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      throw new UsageError(`--args-json: not valid JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UsageError('--args-json: must be a JSON object');
    }
    args = { ...(parsed as Record<string, unknown>) };
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--arg: "${pair}" is not key=value`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}

export const OUTPUT_FORMATS = ['table', 'jsonl', 'csv', 'summary', 'groups'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(value: string): OutputFormat {
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--output: "${value}" is not one of ${OUTPUT_FORMATS.join(', ')}`);
  }
  return value as OutputFormat;
}
