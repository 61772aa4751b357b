/** Options of the adaptive in-flight window. */
export interface AimdWindowOptions {
  /** Starting window (default 256). */
  initial?: number;
  /** Never below this (default 16). */
  min?: number;
  /** Never above this (default 4096). */
  max?: number;
}

/**
 * An AIMD congestion window for UDP queries, like TCP's congestion avoidance: additive increase (+1 per
 * window of replies, i.e. +1 per round trip); a loss (an attempt that timed out) halves it, at most once
 * per round trip: only a loss of a query sent *after* the last decrease counts, so a burst of drops from
 * one overflowing receive buffer halves the window once, not fifty times.
 * No slow start: from 256, doubling per round trip would reach thousands within one loss-detection delay
 * (~200 ms at 30k q/s) and overflow the server's receive buffer before the first loss is even seen.
 * Above 90% of the window where the last loss happened, growth is ten times slower: on loopback the
 * window climbs back within a second, and without this plateau it overflows the server's buffer again
 * every second (each time a burst of drops, retries after the RTO, and a halving).
 */
export class AimdWindow {
  readonly min: number;
  readonly max: number;
  #cwnd: number;
  /** 90% of the window at the last loss: growth slows tenfold above it (CUBIC's plateau, simplified). */
  #ceiling = Number.POSITIVE_INFINITY;
  #lastDecreaseAt = Number.NEGATIVE_INFINITY;

  constructor(opts: AimdWindowOptions = {}) {
    this.min = Math.max(1, opts.min ?? 16);
    this.max = Math.max(this.min, opts.max ?? 4096);
    this.#cwnd = Math.min(this.max, Math.max(this.min, opts.initial ?? 256));
  }

  /** The current limit on queries in flight. */
  get size(): number {
    return Math.floor(this.#cwnd);
  }

  onReply(): void {
    if (this.#cwnd >= this.max) return;
    const step = this.#cwnd < this.#ceiling ? 1 : 0.1;
    this.#cwnd = Math.min(this.max, this.#cwnd + step / this.#cwnd);
  }

  /** `sentAt`: when the lost attempt was sent; `now`: the time of the loss (same clock). */
  onLoss(sentAt: number, now: number): void {
    if (sentAt < this.#lastDecreaseAt) return;
    this.#lastDecreaseAt = now;
    this.#ceiling = Math.max(this.min, this.#cwnd * 0.9);
    this.#cwnd = Math.max(this.min, this.#cwnd / 2);
  }
}
