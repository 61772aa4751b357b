import { UsageError } from './errors.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * "1500ms", "5s", "2m", "1h", "30d"; a bare number means seconds (as curl's and pssh's timeouts do).
 * Throws `UsageError` naming `flag` (the option or config field the value came from) when it is not a
 * duration or not above zero. Returns whole milliseconds.
 */
export function parseDurationMs(value: string, flag: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) throw new UsageError(`${flag}: "${value}" is not a duration (e.g. 1500ms, 5s, 2m)`);
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS];
  if (!(ms > 0)) throw new UsageError(`${flag}: duration must be greater than zero, got "${value}"`);
  return Math.round(ms);
}
