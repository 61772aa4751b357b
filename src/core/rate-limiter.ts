import { delay } from './deadline.js';

/**
 * Spaces starts at most `perSecond` per second (a token bucket holding one second's burst at most
 * `burst` tokens, default 1: evenly spaced). `acquire` waits for a token and honours the signal.
 */
export class RateLimiter {
  readonly intervalMs: number;
  readonly burst: number;
  #nextAt = 0;

  constructor(perSecond: number, burst = 1) {
    if (!(perSecond > 0)) throw new RangeError(`rate must be > 0, got ${perSecond}`);
    this.intervalMs = 1000 / perSecond;
    this.burst = Math.max(1, burst);
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    const earliest = now - this.intervalMs * (this.burst - 1);
    if (this.#nextAt < earliest) this.#nextAt = earliest;
    const waitMs = this.#nextAt - now;
    this.#nextAt += this.intervalMs;
    if (waitMs > 0) await delay(waitMs, signal);
  }
}
