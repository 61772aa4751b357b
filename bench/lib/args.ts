import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { POSTGRES_URL } from '../../test/helpers/services.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `bench/<file>`, the name a benchmark's messages start with. */
export function benchName(moduleUrl: string): string {
  return `bench/${path.basename(fileURLToPath(moduleUrl))}`;
}

/** Prints `bench/<file>: <message>` on stderr and exits 2, as the CLI does for bad input. */
export function benchUsageError(moduleUrl: string, message: string): never {
  process.stderr.write(`${benchName(moduleUrl)}: ${message}\n`);
  process.exit(2);
}

/**
 * A benchmark's flags, parsed strictly. `--help` (or `-h`) prints the file's header comment, which holds its
 * usage, and exits 0; an unknown flag or a flag without its value exits 2 with one line naming it.
 */
export function benchArgs<const O extends Options>(
  moduleUrl: string,
  options: O,
): ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    const source = readFileSync(fileURLToPath(moduleUrl), 'utf8');
    const header = /\/\*\*[\s\S]*?\*\//.exec(source)?.[0] ?? `${benchName(moduleUrl)}: no usage comment`;
    process.stdout.write(`${header}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options }).values;
  } catch (error) {
    // parseArgs' message goes on with how to pass a positional that starts with '-': the first sentence names it
    return benchUsageError(moduleUrl, (error as Error).message.split('. ')[0] ?? String(error));
  }
}

/** A flag's value as a number greater than `min`, or exits 2 naming the flag. */
export function benchNumber(moduleUrl: string, flag: string, value: string, min = 0): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= min) {
    benchUsageError(moduleUrl, `--${flag}: "${value}" is not a number above ${min}`);
  }
  return n;
}

/**
 * A flag's comma-separated list of positive integers (`--concurrency 256,512`), or exits 2 naming the flag and the
 * item. Empty items are skipped, so `--flag ''` is an empty list; `words` are items kept as they are
 * (`default`).
 */
export function benchIntList(moduleUrl: string, flag: string, value: string): number[];
export function benchIntList<const W extends string>(
  moduleUrl: string,
  flag: string,
  value: string,
  words: readonly W[],
): (number | W)[];
export function benchIntList(
  moduleUrl: string,
  flag: string,
  value: string,
  words: readonly string[] = [],
): (number | string)[] {
  return value
    .split(',')
    .filter(Boolean)
    .map((item) => {
      const word = words.find((w) => w === item);
      if (word !== undefined) return word;
      const n = Number(item);
      if (!Number.isInteger(n) || n < 1) {
        const allowed = words.map((w) => `"${w}" or `).join('');
        benchUsageError(moduleUrl, `--${flag}: expected ${allowed}positive integers, got "${item}"`);
      }
      return n;
    });
}

/** `--pg <url>` (default: the tests' PostgreSQL) and `--no-pg`, for the benchmarks that time both stores. */
export const PG_FLAGS = {
  pg: { type: 'string', default: POSTGRES_URL },
  'no-pg': { type: 'boolean', default: false },
} as const;

/** The PostgreSQL URL to time, or undefined with `--no-pg`. */
export function pgUrlOf(flags: { pg: string; 'no-pg': boolean }): string | undefined {
  return flags['no-pg'] ? undefined : flags.pg;
}
