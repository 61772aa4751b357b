/** Ticks the wheel advances per callback at most (see `#advance`). */
const MAX_CATCH_UP = 2;

/** Something the wheel can expire. The wheel owns `timerSeq` and `expiresTick`; do not set them. */
export interface WheelEntry {
  timerSeq: number;
  expiresTick: number;
  onTimer(): void;
}

/**
 * A coarse hashed timer wheel: one interval ticking every `tickMs` expires entries, instead of one
 * `setTimeout` per query (thousands of timers in flight are a measurable cost). Delays are rounded up to
 * whole ticks, so a timer fires between `delay` and `delay + tickMs` late (plus event-loop lag).
 * Cancel is O(1) and lazy: the entry stays in its slot until that slot is visited, then is dropped.
 * The interval runs only while some timer is live, and is `unref()`ed: the wheel never keeps a process alive.
 * Expiry runs in a `setImmediate` after each tick, so I/O already waiting is handled first.
 */
export class TimerWheel {
  readonly tickMs: number;
  #slots: { entries: WheelEntry[]; seqs: number[] }[];
  #mask: number;
  #tick = 0;
  #startedAt = 0;
  #live = 0;
  #interval: NodeJS.Timeout | undefined;
  #now: () => number;

  constructor(tickMs = 25, slots = 512, now: () => number = () => performance.now()) {
    if ((slots & (slots - 1)) !== 0) throw new RangeError('slots must be a power of two');
    this.tickMs = tickMs;
    this.#mask = slots - 1;
    this.#slots = Array.from({ length: slots }, () => ({ entries: [], seqs: [] }));
    this.#now = now;
  }

  /** Live (scheduled, not cancelled, not fired) timers. */
  get size(): number {
    return this.#live;
  }

  /** Schedules (or re-schedules) `entry` to fire `delayMs` from now. */
  schedule(entry: WheelEntry, delayMs: number): void {
    if (this.#interval === undefined) this.#start();
    if (entry.expiresTick >= 0) this.#live--; // re-scheduling a live entry
    const target = Math.floor((this.#now() - this.#startedAt) / this.tickMs);
    const ticks = Math.max(1, Math.ceil(delayMs / this.tickMs));
    const at = Math.max(target, this.#tick) + ticks;
    entry.timerSeq++;
    entry.expiresTick = at;
    const slot = this.#slots[at & this.#mask]!;
    slot.entries.push(entry);
    slot.seqs.push(entry.timerSeq);
    this.#live++;
  }

  /** Cancels `entry`'s timer if it has one. */
  cancel(entry: WheelEntry): void {
    if (entry.expiresTick < 0) return;
    entry.timerSeq++;
    entry.expiresTick = -1;
    if (--this.#live === 0) this.#stop();
  }

  /** Stops the interval and forgets every timer. */
  clear(): void {
    this.#stop();
  }

  #start(): void {
    this.#startedAt = this.#now();
    this.#tick = 0;
    // Expire in the check phase, after the poll phase: replies that arrived while the loop was busy (GC,
    // a long callback) are read before their queries are declared lost.
    this.#interval = setInterval(() => setImmediate(() => this.#advance()), this.tickMs);
    this.#interval.unref();
  }

  #stop(): void {
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
    this.#live = 0;
    for (const slot of this.#slots) {
      slot.entries.length = 0;
      slot.seqs.length = 0;
    }
  }

  /** Visits every tick up to the current one (catching up after event-loop lag). Exposed for tests. */
  advance(): void {
    this.#advance();
  }

  #advance(): void {
    let target = Math.floor((this.#now() - this.#startedAt) / this.tickMs);
    // After a stall (GC, a starved process) the sockets hold a backlog of replies that libuv reads 32 per
    // socket per loop turn. Catching up every missed tick at once would expire queries whose replies are
    // sitting in that backlog; catching up at most MAX_CATCH_UP ticks per callback lets the poll phases
    // in between drain it. Timeouts then stretch by the stall, which is what they should measure.
    if (target - this.#tick > MAX_CATCH_UP) {
      this.#startedAt += (target - this.#tick - MAX_CATCH_UP) * this.tickMs;
      target = this.#tick + MAX_CATCH_UP;
    }
    while (this.#tick < target && this.#interval !== undefined) {
      this.#tick++;
      const slot = this.#slots[this.#tick & this.#mask]!;
      if (slot.entries.length === 0) continue;
      const { entries, seqs } = slot;
      slot.entries = [];
      slot.seqs = [];
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        if (entry.timerSeq !== seqs[i]) continue; // cancelled or re-scheduled
        if (entry.expiresTick > this.#tick) {
          // a later lap of the wheel
          slot.entries.push(entry);
          slot.seqs.push(seqs[i]!);
          continue;
        }
        entry.timerSeq++;
        entry.expiresTick = -1;
        this.#live--;
        entry.onTimer();
      }
      if (this.#live === 0) this.#stop();
    }
  }
}
