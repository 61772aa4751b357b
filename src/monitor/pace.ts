import { timerWait } from '../core/timer-wait.js';

/** Sleeps are skipped when the next start is due within this many ms: a 250,000-target round arms ~1 timer per tick, not one per target. */
const PACE_TICK_MS = 10;

/**
 * When the `index`-th of `count` targets should start, in ms after the round's start: evenly spread over
 * `spreadMs` (the first at 0). Targets beyond `count` (the fleet grew since it was counted) start at once.
 */
export function startOffsetMs(index: number, count: number, spreadMs: number): number {
  if (count <= 0 || index >= count) return spreadMs;
  return (index * spreadMs) / count;
}

/**
 * Yields `targets` no faster than their even spread over `spreadMs` from `startedAtMs` (clock `now`), so a
 * round's checks start across the interval instead of at :00. The consumer's own concurrency limit still
 * applies: pacing only delays, never drops. Aborting `signal` rejects with its reason and closes `targets`.
 * Uses the global `setTimeout` (fake timers in tests).
 */
export async function* paceTargets<T>(
  targets: AsyncIterable<T>,
  opts: {
    readonly expectedCount: number;
    readonly spreadMs: number;
    readonly startedAtMs: number;
    readonly signal: AbortSignal;
    readonly now?: () => number;
  },
): AsyncGenerator<T, void, undefined> {
  const now = opts.now ?? Date.now;
  let i = 0;
  for await (const t of targets) {
    const waitMs = opts.startedAtMs + startOffsetMs(i, opts.expectedCount, opts.spreadMs) - now();
    if (waitMs > PACE_TICK_MS) await timerWait(waitMs, opts.signal);
    opts.signal.throwIfAborted();
    i++;
    yield t;
  }
}
