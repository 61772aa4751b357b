import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** A gap of at least this many ms between two samples of the loop is a stall (the loop was blocked). */
export const STALL_MIN_MS = 200;
/** How often the stall sampler runs, ms. */
const SAMPLE_MS = 50;
/** A sampler tick at least this late is remembered as blocked time (`blockedMsSince`). */
const BLOCK_MIN_MS = 20;
/** Blocked spans remembered (a ring): the last few seconds even on a loop that is late at every tick. */
const BLOCK_SPANS = 256;
/** Resolution of the `monitorEventLoopDelay` histogram, ms. */
const HISTOGRAM_RESOLUTION_MS = 10;

/** Event-loop health since the process started (or since the monitor first ran). */
export interface LoopStats {
  /** Stalls: the loop was blocked at least STALL_MIN_MS. */
  stalls: number;
  /** Total time spent in stalls, ms. */
  stalledMs: number;
  longestStallMs: number;
  /** 99th percentile and maximum of the event-loop delay since the monitor started, ms. */
  lagP99Ms: number;
  lagMaxMs: number;
}

/**
 * Measures the event loop of this process: its delay (`perf_hooks.monitorEventLoopDelay`, a libuv timer
 * that JavaScript cannot delay) and its stalls (gaps between ticks of a 50 ms sampler). One per process,
 * shared by everything that runs in it (`loopMonitor()`); it samples only while someone holds it
 * (`acquire()` ... release), and its timer never keeps the process alive.
 */
export class LoopMonitor {
  #holders = 0;
  #histogram: IntervalHistogram | undefined;
  /** The window histogram the adaptive controller reads and resets. */
  #window: IntervalHistogram | undefined;
  #sampler: NodeJS.Timeout | undefined;
  #lastSampleAt = 0;
  #listeners = new Set<(stallMs: number) => void>();
  #stalls = 0;
  #stalledMs = 0;
  #longestStallMs = 0;
  /** Blocked spans as [end, length] pairs, ms on the `performance.now()` clock; a ring of BLOCK_SPANS. */
  readonly #spans = new Float64Array(BLOCK_SPANS * 2);
  #nextSpan = 0;

  /** Starts sampling (if not already); the returned function stops this holder's share. */
  acquire(): () => void {
    if (this.#holders++ === 0) this.#start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holders === 0) this.#stop();
    };
  }

  /** Calls `listener(stallMs)` for every stall seen while it is subscribed; returns the unsubscribe. */
  onStall(listener: (stallMs: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Largest event-loop delay since the previous call, ms (0 when not sampling). Resets the window. */
  takeLagMs(): number {
    const w = this.#window;
    if (!w || w.count === 0) return 0;
    const lagMs = w.max / 1e6;
    w.reset();
    return lagMs;
  }

  /**
   * How long the loop was blocked (sampler ticks late by BLOCK_MIN_MS or more, summed) since `sinceMs`
   * (`performance.now()` clock), while sampling. A check that waited that long for its answer may have had
   * it in its socket all along: the engine does not trust a timeout seen after a large share of it.
   */
  blockedMsSince(sinceMs: number): number {
    let total = 0;
    for (let i = 0; i < BLOCK_SPANS; i++) {
      const end = this.#spans[i * 2]!;
      if (end <= sinceMs) continue;
      total += Math.min(this.#spans[i * 2 + 1]!, end - sinceMs);
    }
    return total;
  }

  stats(): LoopStats {
    const h = this.#histogram;
    const has = h !== undefined && h.count > 0;
    return {
      stalls: this.#stalls,
      stalledMs: Math.round(this.#stalledMs),
      longestStallMs: Math.round(this.#longestStallMs),
      lagP99Ms: has ? h.percentile(99) / 1e6 : 0,
      lagMaxMs: has ? h.max / 1e6 : 0,
    };
  }

  #record(stallMs: number): void {
    this.#stalls++;
    this.#stalledMs += stallMs;
    if (stallMs > this.#longestStallMs) this.#longestStallMs = stallMs;
    for (const listener of this.#listeners) listener(stallMs);
  }

  /**
   * Takes a sample now (while held): a stall that ended since the last tick is recorded at once, not at the
   * next tick. For a holder about to let go right after a stall (its listeners would miss it otherwise).
   */
  sample(): void {
    if (!this.#sampler) return;
    const now = performance.now();
    const gapMs = now - this.#lastSampleAt - SAMPLE_MS;
    this.#lastSampleAt = now;
    if (gapMs >= BLOCK_MIN_MS) {
      const i = this.#nextSpan;
      this.#spans[i * 2] = now;
      this.#spans[i * 2 + 1] = gapMs;
      this.#nextSpan = (i + 1) % BLOCK_SPANS;
    }
    if (gapMs >= STALL_MIN_MS) this.#record(gapMs);
  }

  #start(): void {
    this.#histogram ??= monitorEventLoopDelay({ resolution: HISTOGRAM_RESOLUTION_MS });
    this.#window ??= monitorEventLoopDelay({ resolution: HISTOGRAM_RESOLUTION_MS });
    this.#histogram.enable();
    this.#window.enable();
    this.#lastSampleAt = performance.now();
    this.#sampler = setInterval(() => this.sample(), SAMPLE_MS);
    this.#sampler.unref();
  }

  #stop(): void {
    clearInterval(this.#sampler);
    this.#sampler = undefined;
    this.#histogram?.disable();
    this.#window?.disable();
  }
}

let shared: LoopMonitor | undefined;

/** The process's LoopMonitor. */
export function loopMonitor(): LoopMonitor {
  shared ??= new LoopMonitor();
  return shared;
}
