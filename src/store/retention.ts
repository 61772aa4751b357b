import type { Logger } from 'pino';
import { UsageError } from '../core/errors.js';
import type { Store } from './store.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses `1500ms`, `30s`, `10m`, `12h`, `30d`, `2w` (a bare number is milliseconds). Throws UsageError. */
export function parseDurationMs(text: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not a duration (e.g. 1500ms, 30s, 12h, 30d)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

export interface RetentionHandle {
  /** Runs one sweep now (also used by the timer). Resolves to the number of runs deleted; never rejects. */
  sweep(): Promise<number>;
  stop(): void;
}

/**
 * Deletes runs older than `keepMs` every `intervalMs` (default 1 h) in the background. The timer is unref'd
 * (it never keeps the process alive); a failed sweep is logged and retried at the next tick; sweeps never overlap.
 */
export function startRetention(
  store: Store,
  keepMs: number,
  opts: { intervalMs?: number; log?: Logger } = {},
): RetentionHandle {
  let running: Promise<number> | undefined;
  const sweep = (): Promise<number> => {
    running ??= store
      .deleteRunsOlderThan(new Date(Date.now() - keepMs))
      .then((n) => {
        if (n > 0) opts.log?.info({ deleted: n }, 'retention: deleted old runs');
        return n;
      })
      .catch((err: unknown) => {
        opts.log?.warn({ err }, 'retention sweep failed; retrying at the next tick');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void sweep(), opts.intervalMs ?? 3_600_000);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
