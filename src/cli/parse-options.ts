import { UsageError } from '../core/errors.js';

export { parseDurationMs } from '../core/duration.js';
export { parseIntOption, parsePositiveNumber } from '../core/number-options.js';

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
