import type { Result } from '../../src/engine/result.js';
import { startOffsetMs } from '../../src/monitor/pace.js';
import { ipv4ToInt } from '../../src/sim/ipv4.js';

/** Lateness histogram resolution, ms. */
const BIN_MS = 10;

/** What one monitor's checks looked like against their schedule. */
export interface LatenessSummary {
  readonly intervalMs: number;
  /** Checks due inside the measured window (every target of every grid round, skipped rounds included). */
  readonly due: number;
  /** Of those, checks that started (any status but `cancelled`). */
  readonly started: number;
  /** Of those, checks that started no later than 10% of the interval after they were due. */
  readonly onTime: number;
  /** Lateness percentiles of the started checks, ms (resolution 10 ms). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * When each target check was due, and how late it started. A round due at D (the scheduler's fixed grid:
 * first due + k x interval) paces target i of n to start at D + i x spread / n (`startOffsetMs`, the
 * runtime's own rule), so target i's check is due then; a late round start makes every check of it late, and a
 * skipped round's checks never start. The fleet is the simulator's: target i is `base + i`.
 */
export class RoundLateness {
  readonly #intervalMs: number;
  readonly #baseInt: number;
  readonly #bins: Uint32Array;
  readonly #rounds = new Map<string, { dueAtMs: number; count: number; spreadMs: number }>();
  #firstDueAtMs: number | undefined;
  #count = 0;
  #spreadMs = 0;
  #windowEndMs = Number.POSITIVE_INFINITY;
  #started = 0;
  #onTime = 0;
  #maxMs = 0;

  constructor(opts: { intervalMs: number; base: string }) {
    this.#intervalMs = opts.intervalMs;
    this.#baseInt = ipv4ToInt(opts.base);
    this.#bins = new Uint32Array(Math.ceil((4 * opts.intervalMs) / BIN_MS) + 1);
  }

  /** A round started: due on the grid at `dueAtMs`, pacing `count` targets over `spreadMs`. */
  roundStarted(runId: string, dueAtMs: number, count: number, spreadMs: number): void {
    this.#firstDueAtMs ??= dueAtMs;
    this.#count = count;
    this.#spreadMs = spreadMs;
    this.#rounds.set(runId, { dueAtMs, count, spreadMs });
  }

  /** Checks due after this time are not counted (they could not yet be 10% late when the bench stopped). */
  setWindowEnd(ms: number): void {
    this.#windowEndMs = ms;
  }

  observe(results: readonly Result[]): void {
    for (const r of results) {
      if (r.status === 'cancelled') continue;
      const round = this.#rounds.get(r.run);
      if (!round) continue;
      const i = ipv4ToInt(r.target) - this.#baseInt;
      const due = round.dueAtMs + startOffsetMs(i, round.count, round.spreadMs);
      if (due > this.#windowEndMs) continue;
      const late = Math.max(0, Date.parse(r.startedAt) - due);
      this.#started++;
      if (late <= this.#intervalMs * 0.1) this.#onTime++;
      if (late > this.#maxMs) this.#maxMs = late;
      this.#bins[Math.min(this.#bins.length - 1, Math.floor(late / BIN_MS))]!++;
    }
  }

  /** Rounds whose results are no longer arriving can be forgotten (keeps the map small). */
  roundEnded(runId: string): void {
    // Results reach onStored before the round's run ends; a late batch of a finished round cannot come.
    this.#rounds.delete(runId);
  }

  summary(): LatenessSummary {
    let due = 0;
    if (this.#firstDueAtMs !== undefined) {
      for (let d = this.#firstDueAtMs; d <= this.#windowEndMs; d += this.#intervalMs) {
        const x = this.#windowEndMs - d;
        due +=
          x >= this.#spreadMs
            ? this.#count
            : Math.min(this.#count, Math.floor((x * this.#count) / Math.max(1, this.#spreadMs)) + 1);
      }
    }
    const pct = (q: number) => {
      const want = Math.ceil(this.#started * q);
      let seen = 0;
      for (let b = 0; b < this.#bins.length; b++) {
        seen += this.#bins[b]!;
        if (seen >= want && want > 0) return (b + 1) * BIN_MS;
      }
      return 0;
    };
    return {
      intervalMs: this.#intervalMs,
      due,
      started: this.#started,
      onTime: this.#onTime,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      maxMs: Math.round(this.#maxMs),
    };
  }
}
