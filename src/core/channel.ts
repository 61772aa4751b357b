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
  #pullWaiter: (() => void) | undefined;
  #ended = false;
  #error: unknown;
  #closed = false;

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
  async push(item: T): Promise<boolean> {
    while (!this.#closed && this.size >= this.capacity) {
      await new Promise<void>((resolve) => this.#pushWaiters.push(resolve));
    }
    if (this.#closed) return false;
    if (this.#ended) throw new Error('Channel.push after end()');
    this.#buffer.push(item);
    this.#wakePuller();
    return true;
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wakePuller();
  }

  #wakePuller(): void {
    const waiter = this.#pullWaiter;
    this.#pullWaiter = undefined;
    waiter?.();
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

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    try {
      for (;;) {
        if (this.size > 0) {
          const item = this.#take();
          // One slot freed: wake one producer. Waking all of them (up to the concurrency) for every item
          // costs ~10x the CPU per result once the consumer is the slower side.
          this.#pushWaiters.shift()?.();
          yield item;
          continue;
        }
        if (this.#ended) {
          if (this.#error !== undefined) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.#pullWaiter = resolve;
        });
      }
    } finally {
      this.#closed = true;
      this.#buffer = [];
      this.#head = 0;
      this.#wakePushers();
    }
  }
}
