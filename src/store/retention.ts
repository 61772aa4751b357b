import type { Logger } from 'pino';
import type { Store } from './types.js';

export interface RetentionHandle {
  /** Runs one sweep now (also used by the timer). Resolves to the number of runs deleted; never rejects. */
  sweep(): Promise<number>;
  stop(): void;
}

/**
 * Deletes runs older than `keepMs` (and resolved alerts that ended, and finished outbox rows, before then) every `intervalMs` (default 1 h) in the background. The timer is unref'd
 * (it never keeps the process alive); a failed sweep is logged and retried at the next tick; sweeps never overlap.
 */
export function startRetention(
  store: Store,
  keepMs: number,
  opts: { intervalMs?: number; log?: Logger } = {},
): RetentionHandle {
  let running: Promise<number> | undefined;
  const sweep = (): Promise<number> => {
    const cutoff = new Date(Date.now() - keepMs);
    running ??= store
      .deleteRunsOlderThan(cutoff)
      .then(async (n) => {
        if (n > 0) opts.log?.info({ deleted: n }, 'retention: deleted old runs');
        const old = await store.alerts.deleteAlertsOlderThan(cutoff);
        if (old.alerts + old.outbox > 0)
          opts.log?.info(old, 'retention: deleted old alerts and notifications');
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
