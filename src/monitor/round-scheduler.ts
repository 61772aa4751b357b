/** One due round, as handed to `runRound`. */
export interface RoundTick {
  /** 1, 2, 3... per scheduler (counts started rounds, not skipped ones). */
  readonly seq: number;
  /** When the round was due (ms since the epoch); it starts at that time or, under load, a little after. */
  readonly dueAtMs: number;
}

export interface RoundSchedulerOptions {
  /** Time between round starts, in ms (> 0). */
  readonly intervalMs: number;
  /**
   * Runs one round to its end. Aborting `signal` (stop) must make it end promptly. A rejection is handed to
   * `onError`; the schedule goes on.
   */
  readonly runRound: (tick: RoundTick, signal: AbortSignal) => Promise<void>;
  /** Called for each round not started because the previous one was still running when it was due. */
  readonly onSkip?: (dueAtMs: number) => void;
  readonly onError?: (err: unknown) => void;
  /** When the first round is due (default: now). A restart passes last start + interval to keep the pace. */
  readonly firstDueAtMs?: number;
  readonly paused?: boolean;
  /** Clock (default `Date.now`); timers are the global `setTimeout`, so fake timers drive it in tests. */
  readonly now?: () => number;
}

/**
 * Starts a round every `intervalMs` on a fixed grid (no drift from round durations). At most one round runs:
 * a round due while the previous one still runs is skipped and counted (`skipped`), never queued, so a slow
 * round cannot pile up work. Several grid points missed at once (a blocked event loop) count as several skips.
 * Paused: no round starts; `resume()` starts the next round at once, but never less than `intervalMs` after
 * the previous start. `setIntervalMs()` keeps that rule. `stop()` aborts the running round and waits for it.
 */
export class RoundScheduler {
  readonly #runRound: RoundSchedulerOptions['runRound'];
  readonly #onSkip: RoundSchedulerOptions['onSkip'];
  readonly #onError: RoundSchedulerOptions['onError'];
  readonly #now: () => number;
  #intervalMs: number;
  #nextDueAtMs: number;
  #lastStartAtMs: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #controller: AbortController | undefined;
  #paused: boolean;
  #stopped = false;
  #rounds = 0;
  #skipped = 0;

  constructor(opts: RoundSchedulerOptions) {
    if (!(opts.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${opts.intervalMs}`);
    this.#runRound = opts.runRound;
    this.#onSkip = opts.onSkip;
    this.#onError = opts.onError;
    this.#now = opts.now ?? Date.now;
    this.#intervalMs = opts.intervalMs;
    this.#nextDueAtMs = opts.firstDueAtMs ?? this.#now();
    this.#paused = opts.paused ?? false;
    this.#arm();
  }

  /** Rounds started so far. */
  get rounds(): number {
    return this.#rounds;
  }
  /** Rounds skipped because the previous one was still running (or the loop was blocked past them). */
  get skipped(): number {
    return this.#skipped;
  }
  get running(): boolean {
    return this.#running !== undefined;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get intervalMs(): number {
    return this.#intervalMs;
  }
  /** When the next round is due (ms since the epoch); undefined while paused or stopped. */
  get nextDueAtMs(): number | undefined {
    return this.#paused || this.#stopped ? undefined : this.#nextDueAtMs;
  }

  /** No new round starts; a running round finishes normally. */
  pause(): void {
    this.#paused = true;
    this.#disarm();
  }

  resume(): void {
    if (!this.#paused || this.#stopped) return;
    this.#paused = false;
    this.#nextDueAtMs = this.#earliestStart();
    this.#arm();
  }

  /** Changes the interval from the next round on (reload). */
  setIntervalMs(intervalMs: number): void {
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
    if (intervalMs === this.#intervalMs) return;
    this.#intervalMs = intervalMs;
    this.#nextDueAtMs = this.#earliestStart();
    this.#disarm();
    this.#arm();
  }

  /** Stops the schedule, aborts the running round (reason `reason`) and resolves when it has ended. */
  async stop(reason?: unknown): Promise<void> {
    this.#stopped = true;
    this.#disarm();
    this.#controller?.abort(reason);
    await this.#running;
  }

  #earliestStart(): number {
    const now = this.#now();
    return this.#lastStartAtMs === undefined ? now : Math.max(now, this.#lastStartAtMs + this.#intervalMs);
  }

  #arm(): void {
    if (this.#paused || this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, this.#nextDueAtMs - this.#now()));
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#paused || this.#stopped) return;
    const dueAtMs = this.#nextDueAtMs;
    if (this.#running) {
      this.#skipped++;
      this.#onSkip?.(dueAtMs);
    } else {
      this.#start(dueAtMs);
    }
    this.#nextDueAtMs = dueAtMs + this.#intervalMs;
    // Grid points already past (the loop was blocked longer than an interval) are skips too.
    const now = this.#now();
    while (this.#nextDueAtMs < now) {
      this.#skipped++;
      this.#onSkip?.(this.#nextDueAtMs);
      this.#nextDueAtMs += this.#intervalMs;
    }
    this.#arm();
  }

  #start(dueAtMs: number): void {
    const controller = new AbortController();
    this.#controller = controller;
    this.#lastStartAtMs = this.#now();
    const seq = ++this.#rounds;
    this.#running = (async () => {
      try {
        await undefined; // so the `finally` below always runs after `#running` is assigned
        await this.#runRound({ seq, dueAtMs }, controller.signal);
      } catch (err) {
        this.#onError?.(err);
      } finally {
        this.#running = undefined;
        this.#controller = undefined;
      }
    })();
  }
}
