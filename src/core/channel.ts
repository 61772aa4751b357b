/**
 * A bounded single-consumer async queue: `push` waits while `capacity` items are buffered (backpressure
 * to the producers), the consumer iterates with `for await`. `end(err?)` finishes the stream after the
 * buffered items; `err` is thrown to the consumer. If the consumer stops early, `closed` becomes true and
 * pending and future pushes resolve to `false` (the item was not delivered) instead of hanging.
 */
export class Channel<T> implements AsyncIterable<T> {
  readonly capacity: number;
  #buffer: T[] = [];
  #head = 0;
  #pushWaiters: (() => void)[] = [];
  /** The consumer waiting on an empty buffer: the next item (or the end) settles its `next()` directly. */
  #puller: ((item: IteratorResult<T, void>) => void) | undefined;
  #pullerFails: ((err: unknown) => void) | undefined;
  #ended = false;
  #error: unknown;
  /** The consumer reached the end or stopped. */
  #closed = false;
  /** The consumer's synchronous side (`sinkTo`), offered each item before it is buffered. */
  #sink: ((item: T) => boolean) | undefined;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`Channel capacity must be >= 1, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#buffer.length - this.#head;
  }

  /** True once the consumer stopped reading. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves `true` once the item is buffered, `false` if the consumer has gone away. */
  push(item: T): Promise<boolean> {
    // Not async: with room in the buffer (the usual case) a push costs no promise of its own.
    if (this.#closed) return PUSHED_NOT;
    if (this.size < this.capacity) {
      if (this.#ended) return Promise.reject(new Error('Channel.push after end()'));
      this.#put(item);
      return PUSHED;
    }
    return this.#pushWhenRoom(item);
  }

  /**
   * Buffers `item` if there is room, or drops it if the consumer has gone away (as `push` resolving `false`
   * would): true. False when the buffer is full: nothing was done, `push` waits for room.
   */
  tryPush(item: T): boolean {
    if (this.#closed) return true;
    if (this.size >= this.capacity) return false;
    if (this.#ended) throw new Error('Channel.push after end()');
    this.#put(item);
    return true;
  }

  /**
   * A synchronous consumer besides the iteration: from now on an item put while nothing is buffered is offered
   * to `sink` first, in the producer's call, with no promise and no turn of the loop. `sink` returns false when
   * it cannot take the item now (the consumer is behind): the item goes the async way (to a waiting `next()`,
   * or buffered within the capacity, pushes waiting beyond it), so backpressure is the iteration's. Buffered
   * items come before any offer, so the order holds. The consumer still iterates, for what `sink` refused and
   * for the end.
   */
  sinkTo(sink: (item: T) => boolean): void {
    this.#sink = sink;
  }

  /** Offers `item` to the sink, hands it to a waiting consumer, else buffers it. */
  #put(item: T): void {
    const sink = this.#sink;
    if (sink !== undefined && this.#head === this.#buffer.length && sink(item)) return;
    const puller = this.#puller;
    if (puller === undefined) {
      this.#buffer.push(item);
      return;
    }
    this.#puller = undefined;
    this.#pullerFails = undefined;
    puller({ value: item, done: false });
  }

  async #pushWhenRoom(item: T): Promise<boolean> {
    while (!this.#closed && this.size >= this.capacity) {
      await new Promise<void>((resolve) => this.#pushWaiters.push(resolve));
    }
    if (this.#closed) return false;
    if (this.#ended) throw new Error('Channel.push after end()');
    this.#put(item);
    return true;
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    // A consumer waits only on an empty buffer: this is its end (`#finish` hands it END; an error it throws).
    if (this.#puller === undefined) return;
    const fails = this.#pullerFails;
    if (error !== undefined) {
      this.#puller = undefined;
      this.#pullerFails = undefined;
    }
    this.#finish();
    if (error !== undefined) fails?.(error);
  }

  /** The consumer is done (reached the end, or stopped): pushes from now on are not delivered. */
  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer = [];
    this.#head = 0;
    this.#wakePushers();
    const puller = this.#puller;
    this.#puller = undefined;
    this.#pullerFails = undefined;
    puller?.(END);
  }

  #wakePushers(): void {
    const waiters = this.#pushWaiters;
    this.#pushWaiters = [];
    for (const w of waiters) w();
  }

  #take(): T {
    const item = this.#buffer[this.#head] as T;
    this.#buffer[this.#head++] = undefined as T;
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    }
    return item;
  }

  /**
   * The consumer's side: one iteration. Written by hand rather than as an async generator, which costs
   * several promises per item; `return()` (a `break` out of `for await`) closes the channel as its
   * `finally` would.
   */
  [Symbol.asyncIterator](): ChannelIterator<T> {
    return { next: () => this.#next(), return: () => this.#return() };
  }

  #next(): Promise<IteratorResult<T, void>> {
    if (this.#closed) return ITERATION_DONE;
    if (this.size > 0) {
      const item = this.#take();
      // One slot freed: wake one producer. Waking all of them (up to the concurrency) for every item
      // costs ~10x the CPU per result once the consumer is the slower side.
      this.#pushWaiters.shift()?.();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#ended) {
      this.#finish();
      return this.#error !== undefined ? Promise.reject(this.#error) : ITERATION_DONE;
    }
    return new Promise<IteratorResult<T, void>>((resolve, reject) => {
      this.#puller = resolve;
      this.#pullerFails = reject;
    });
  }

  #return(): Promise<IteratorResult<T, void>> {
    this.#finish();
    return ITERATION_DONE;
  }
}

/** The consumer's iterator; `return()` closes the channel. */
export interface ChannelIterator<T> extends AsyncIterator<T, void, undefined> {
  next(): Promise<IteratorResult<T, void>>;
  return(value?: undefined): Promise<IteratorResult<T, void>>;
}

const END: IteratorResult<never, void> = { value: undefined, done: true };
const PUSHED: Promise<boolean> = Promise.resolve(true);
const PUSHED_NOT: Promise<boolean> = Promise.resolve(false);
const ITERATION_DONE: Promise<IteratorResult<never, void>> = Promise.resolve({
  value: undefined,
  done: true,
});
