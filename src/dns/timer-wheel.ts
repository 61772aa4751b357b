/** Ticks the wheel advances per callback at most (see `#advance`). */
const MAX_CATCH_UP = 2;

/** A link of a wheel slot's list: an entry, or a slot's own sentinel. */
interface WheelLink {
  wheelPrev: WheelLink | undefined;
  wheelNext: WheelLink | undefined;
}

/**
 * Something the wheel can expire. The wheel owns `expiresTick`, `wheelPrev` and `wheelNext` (start them at
 * -1, undefined, undefined) and never sets anything else.
 */
export interface WheelEntry extends WheelLink {
  expiresTick: number;
  onTimer(): void;
}

/**
 * A coarse hashed timer wheel: one interval ticking every `tickMs` expires entries, instead of one
 * `setTimeout` per query (thousands of timers in flight are a measurable cost). Delays are rounded up to
 * whole ticks, so a timer fires between `delay` and `delay + tickMs` late (plus event-loop lag).
 * Each slot is a circular doubly-linked list through the entries themselves: schedule and cancel are O(1)
 * and allocate nothing, and a cancelled entry is unlinked at once, so the wheel never keeps a finished query
 * alive (lazily dropped entries used to pile up for a whole timeout, survive young-generation collections
 * and cost a good part of the GC time of bulk resolution).
 * The interval runs only while some timer is live, and is `unref()`ed: the wheel never keeps a process alive.
 * Expiry runs in a `setImmediate` after each tick, so I/O already waiting is handled first.
 */
export class TimerWheel {
  readonly tickMs: number;
  /** One sentinel per slot; an empty slot's sentinel links to itself. */
  #slots: WheelLink[];
  /** The entries of the slot being expired (see `#advance`). */
  #due = emptyList();
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
    this.#slots = Array.from({ length: slots }, () => emptyList());
    this.#now = now;
  }

  /** Live (scheduled, not cancelled, not fired) timers. */
  get size(): number {
    return this.#live;
  }

  /** Schedules (or re-schedules) `entry` to fire `delayMs` from now. */
  schedule(entry: WheelEntry, delayMs: number): void {
    if (this.#interval === undefined) this.#start();
    if (entry.expiresTick >= 0)
      unlink(entry); // re-scheduling a live entry
    else this.#live++;
    const target = Math.floor((this.#now() - this.#startedAt) / this.tickMs);
    const ticks = Math.max(1, Math.ceil(delayMs / this.tickMs));
    const at = Math.max(target, this.#tick) + ticks;
    entry.expiresTick = at;
    append(this.#slots[at & this.#mask]!, entry);
  }

  /** Cancels `entry`'s timer if it has one. */
  cancel(entry: WheelEntry): void {
    if (entry.expiresTick < 0) return;
    unlink(entry);
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
    if (this.#live === 0) return;
    this.#live = 0;
    for (const sentinel of [...this.#slots, this.#due]) {
      for (let link = sentinel.wheelNext!; link !== sentinel; ) {
        const next = link.wheelNext!;
        const entry = link as WheelEntry;
        entry.wheelPrev = entry.wheelNext = undefined;
        entry.expiresTick = -1;
        link = next;
      }
      sentinel.wheelPrev = sentinel.wheelNext = sentinel;
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
    const due = this.#due;
    while (this.#tick < target && this.#interval !== undefined) {
      this.#tick++;
      const slot = this.#slots[this.#tick & this.#mask]!;
      if (slot.wheelNext === slot) continue;
      // Move the slot's entries to `due` first: a callback may cancel or re-schedule any entry, even this slot's.
      due.wheelNext = slot.wheelNext;
      due.wheelPrev = slot.wheelPrev;
      due.wheelNext!.wheelPrev = due;
      due.wheelPrev!.wheelNext = due;
      slot.wheelNext = slot.wheelPrev = slot;
      while (due.wheelNext !== due) {
        const entry = due.wheelNext as WheelEntry;
        unlink(entry);
        if (entry.expiresTick > this.#tick) {
          append(slot, entry); // a later lap of the wheel
          continue;
        }
        entry.expiresTick = -1;
        this.#live--;
        entry.onTimer();
      }
      if (this.#live === 0) this.#stop();
    }
  }
}

function emptyList(): WheelLink {
  const sentinel: WheelLink = { wheelPrev: undefined, wheelNext: undefined };
  sentinel.wheelPrev = sentinel.wheelNext = sentinel;
  return sentinel;
}

function append(sentinel: WheelLink, entry: WheelLink): void {
  const last = sentinel.wheelPrev!;
  entry.wheelPrev = last;
  entry.wheelNext = sentinel;
  last.wheelNext = entry;
  sentinel.wheelPrev = entry;
}

function unlink(entry: WheelLink): void {
  entry.wheelPrev!.wheelNext = entry.wheelNext;
  entry.wheelNext!.wheelPrev = entry.wheelPrev;
  entry.wheelPrev = entry.wheelNext = undefined;
}
