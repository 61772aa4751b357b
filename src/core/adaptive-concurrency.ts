/** How often the controller looks at the loop, ms. */
export const ADAPT_INTERVAL_MS = 250;

export interface AdaptiveConcurrencyOptions {
  /** The most in flight (`-c`): the limit starts here and never goes above it. */
  ceiling: number;
  /** The least in flight (default: min(ceiling, 16)). */
  floor?: number;
  /** Event-loop delay above which the client counts as saturated, ms. */
  highLagMs: number;
  /** Largest event-loop delay since the previous call, ms (`LoopMonitor.takeLagMs`). */
  lagMs: () => number;
  /** Called with the new limit whenever it changes. */
  onChange: (limit: number) => void;
  /** How often to look, ms (default ADAPT_INTERVAL_MS). */
  intervalMs?: number;
}

/**
 * AIMD on the client's own saturation: every `intervalMs` it reads the event-loop delay; above `highLagMs`
 * the in-flight limit is cut to 70% (not below the floor), below half of it the limit grows by a twentieth
 * of the ceiling (not above the ceiling). A loop that lags is one that reads answers late and fires
 * deadlines late: fewer checks in flight is how the client stops reporting its own overload as timeouts.
 */
export class AdaptiveConcurrency {
  readonly ceiling: number;
  readonly floor: number;
  readonly #highLagMs: number;
  readonly #step: number;
  readonly #intervalMs: number;
  readonly #lagMs: () => number;
  readonly #onChange: (limit: number) => void;
  #limit: number;
  #lowest: number;
  #decreases = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AdaptiveConcurrencyOptions) {
    this.ceiling = options.ceiling;
    this.floor = Math.min(options.ceiling, options.floor ?? 16);
    this.#highLagMs = options.highLagMs;
    this.#step = Math.max(1, Math.ceil(options.ceiling / 20));
    this.#intervalMs = options.intervalMs ?? ADAPT_INTERVAL_MS;
    this.#lagMs = options.lagMs;
    this.#onChange = options.onChange;
    this.#limit = options.ceiling;
    this.#lowest = options.ceiling;
  }

  /** The current in-flight limit. */
  get limit(): number {
    return this.#limit;
  }
  /** The lowest limit so far. */
  get lowest(): number {
    return this.#lowest;
  }
  /** How many times the limit was cut. */
  get decreases(): number {
    return this.#decreases;
  }

  /** Starts looking every `intervalMs` (an unref'd timer). */
  start(): void {
    if (this.#timer || this.floor === this.ceiling) return;
    this.#lagMs(); // start a fresh window
    this.#timer = setInterval(() => this.adjust(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One step of the controller (what the timer runs). */
  adjust(): void {
    const lagMs = this.#lagMs();
    let next = this.#limit;
    if (lagMs > this.#highLagMs) {
      next = Math.max(this.floor, Math.floor((this.#limit * 7) / 10));
      if (next < this.#limit) this.#decreases++;
    } else if (lagMs < this.#highLagMs / 2) {
      next = Math.min(this.ceiling, this.#limit + this.#step);
    }
    if (next === this.#limit) return;
    this.#limit = next;
    if (next < this.#lowest) this.#lowest = next;
    this.#onChange(next);
  }
}
