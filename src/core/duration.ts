import * as z from 'zod';
import { UsageError } from './errors.js';
import { describeValue } from './text.js';

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

/**
 * The one duration field of config files and API bodies: `30s`, `5m`, `1500ms`, or a number of seconds, as
 * whole milliseconds. `allowZero` also takes `0` (`0s`...: no wait, as in an alert rule's `for`). A bad or
 * missing value is one issue: `expected a duration like 30s or 5m, got "soon"` (or `required`).
 */
export function durationMsSchema(opts: { allowZero?: boolean } = {}) {
  return z.unknown().transform((value, ctx) => {
    if (typeof value === 'string' || typeof value === 'number') {
      const text = String(value).trim();
      if (opts.allowZero && /^0+(\.0+)?(ms|s|m|h|d)?$/.test(text)) return 0;
      try {
        return parseDurationMs(text, '');
      } catch {
        // reported below, in the config's wording
      }
    }
    const message =
      value === undefined ? 'required' : `expected a duration like 30s or 5m, got ${describeValue(value)}`;
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  });
}
