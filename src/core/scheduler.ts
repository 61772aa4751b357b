import { CancelledError, CloseTimeoutError, SchedulerClosedError } from './errors.js';

/** A unit of work. It gets the scheduler's signal (aborted by `close` timeout or `destroy`) and must honour it. */
export type Job<T> = (signal: AbortSignal) => Promise<T>;

export interface SchedulerOptions {
  /** Most jobs running at once (>= 1). */
  limit: number;
  /** Most jobs queued (not yet started) before `spawn()` waits. Default: `limit`. 0 means spawn waits for a free slot. */
  pendingLimit?: number;
  /** Aborting this signal destroys the scheduler with its reason. */
  signal?: AbortSignal;
  /**
   * Called for every job that rejects. Default: errors are collected and returned by `close()` as an
   * `AggregateError`, so a failing job is never silent and never an unhandled rejection.
   */
  onError?: (err: unknown) => void;
}

export interface CloseOptions {
  /** Milliseconds to let queued and running jobs finish before the rest are aborted. Default: no limit. */
  timeout?: number;
}

interface Entry {
  run: () => void;
  reject: (reason: unknown) => void;
}

/** A FIFO with O(1) push/shift (Array#shift is O(n) on large arrays). */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  get size(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
  drain(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}

/**
 * Bounded concurrency with backpressure. At most `limit` jobs run; at most `pendingLimit` wait in the
 * queue; `spawn()` itself waits (instead of piling work up) when the queue is full. Every job is owned:
 * its promise is returned to the caller and its failure is reported through `onError` or `close()`.
 *
 * Abort semantics: a queued job that is aborted never starts (its promise rejects with the reason);
 * a running job's signal is aborted and the job is expected to destroy what it holds and settle.
 */
export class Scheduler {
  #limit: number;
  readonly pendingLimit: number;
  #running = 0;
  #queue = new Fifo<Entry>();
  #spaceWaiters = new Fifo<{ resolve: () => void; reject: (reason: unknown) => void }>();
  #idleWaiters: (() => void)[] = [];
  #controller = new AbortController();
  #closed = false;
  #errors: unknown[] = [];
  #onError: ((err: unknown) => void) | undefined;
  #parent: AbortSignal | undefined;
  #onParentAbort = () => this.destroy(this.#parent?.reason);

  constructor(options: SchedulerOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new RangeError(`Scheduler limit must be a positive integer, got ${options.limit}`);
    }
    const pendingLimit = options.pendingLimit ?? options.limit;
    if (!Number.isInteger(pendingLimit) || pendingLimit < 0) {
      throw new RangeError(`Scheduler pendingLimit must be a non-negative integer, got ${pendingLimit}`);
    }
    this.#limit = options.limit;
    this.pendingLimit = pendingLimit;
    this.#onError = options.onError;
    this.#parent = options.signal;
    if (this.#parent?.aborted) this.destroy(this.#parent.reason);
    else this.#parent?.addEventListener('abort', this.#onParentAbort, { once: true });
  }

  /** Most jobs running at once. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Changes the most jobs running at once (an adaptive controller's lever). Raising it starts queued jobs
   * at once; lowering it never stops a running job: the running count drains down to the new limit.
   */
  setLimit(limit: number): void {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Scheduler limit must be a positive integer, got ${limit}`);
    }
    const raised = limit > this.#limit;
    this.#limit = limit;
    if (raised) this.#next();
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }
  /** Jobs queued, not yet started. */
  get pending(): number {
    return this.#queue.size;
  }
  /** Aborted when the scheduler is destroyed (or a close timeout fired). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues `job`, waiting first while `pendingLimit` jobs are already queued (backpressure).
   * Resolves, once the job is accepted, to `{ done }`: the job's own promise. `done` is always observed by
   * the scheduler, so leaving it unawaited can never raise an unhandled rejection.
   */
  async spawn<T>(job: Job<T>): Promise<{ done: Promise<T> }> {
    while (this.#running >= this.#limit && this.#queue.size >= this.pendingLimit) {
      if (this.#closed) throw new SchedulerClosedError();
      await new Promise<void>((resolve, reject) => this.#spaceWaiters.push({ resolve, reject }));
    }
    if (this.#closed) throw new SchedulerClosedError();
    return { done: this.#enqueue(job) };
  }

  /** Like `spawn`, but never waits: throws a RangeError when the queue is full. */
  trySpawn<T>(job: Job<T>): { done: Promise<T> } {
    if (this.#closed) throw new SchedulerClosedError();
    if (this.#running >= this.#limit && this.#queue.size >= this.pendingLimit) {
      throw new RangeError(`scheduler full: ${this.#running} running, ${this.#queue.size} queued`);
    }
    return { done: this.#enqueue(job) };
  }

  #enqueue<T>(job: Job<T>): Promise<T> {
    const signal = this.#controller.signal;
    // A free slot: the job's own promise, chained once (one `then` per job, for callers with many small jobs).
    if (!signal.aborted && this.#running < this.#limit) return this.#observe(this.#start(job));
    const done = new Promise<T>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      this.#queue.push({ run: () => this.#start(job).then(resolve, reject), reject });
    });
    return this.#observe(done);
  }

  /** Runs `job` in a slot, which it frees when it settles (before its promise's reactions run). */
  #start<T>(job: Job<T>): Promise<T> {
    this.#running++;
    let p: Promise<T>;
    try {
      p = Promise.resolve(job(this.#controller.signal));
    } catch (err) {
      p = Promise.reject(err);
    }
    return p.then(
      (value) => {
        this.#jobEnded();
        return value;
      },
      (err: unknown) => {
        this.#jobEnded();
        throw err;
      },
    );
  }

  #jobEnded(): void {
    this.#running--;
    this.#next();
  }

  /** Reports a rejection of `done` (so it is never an unhandled rejection) and returns `done`. */
  #observe<T>(done: Promise<T>): Promise<T> {
    done.catch((err: unknown) => this.#report(err));
    return done;
  }

  #report(err: unknown): void {
    // A job rejected because the scheduler itself was aborted is the expected outcome of that abort.
    if (this.#controller.signal.aborted && err === this.#controller.signal.reason) return;
    if (this.#onError) this.#onError(err);
    else this.#errors.push(err);
  }

  #next(): void {
    while (this.#running < this.#limit) {
      const entry = this.#queue.shift();
      if (!entry) break;
      entry.run();
    }
    // Wake spawners while there is room; each re-checks the condition in its loop.
    let room = this.pendingLimit - this.#queue.size + (this.#limit - this.#running);
    while (room-- > 0) {
      const waiter = this.#spaceWaiters.shift();
      if (!waiter) break;
      waiter.resolve();
    }
    if (this.#running === 0 && this.#queue.size === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when nothing is running or queued. */
  onIdle(): Promise<void> {
    if (this.#running === 0 && this.#queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops accepting jobs, lets queued and running ones finish, and after `timeout` ms aborts the rest
   * with a `CloseTimeoutError`, then waits for them to settle. Resolves (never rejects) to the jobs'
   * collected errors as an `AggregateError`, or `undefined` when none failed.
   */
  async close(options: CloseOptions = {}): Promise<AggregateError | undefined> {
    this.#closeToNewWork();
    let timer: NodeJS.Timeout | undefined;
    if (options.timeout !== undefined && (this.#running > 0 || this.#queue.size > 0)) {
      const timeoutMs = options.timeout;
      timer = setTimeout(() => {
        this.destroy(
          new CloseTimeoutError(
            `close timed out after ${timeoutMs} ms with ${this.#running} running and ${this.#queue.size} queued`,
          ),
        );
      }, timeoutMs);
    }
    try {
      await this.onIdle();
    } finally {
      if (timer) clearTimeout(timer);
      this.#parent?.removeEventListener('abort', this.#onParentAbort);
    }
    return this.#errors.length > 0
      ? new AggregateError(this.#errors, `${this.#errors.length} job(s) failed`)
      : undefined;
  }

  /** Aborts at once: queued jobs never start (they reject with `reason`), running jobs see their signal abort. */
  destroy(reason: unknown = new CancelledError('scheduler destroyed')): void {
    this.#closeToNewWork();
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
    for (const entry of this.#queue.drain()) entry.reject(this.#controller.signal.reason);
    this.#next();
  }

  #closeToNewWork(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#spaceWaiters.drain()) waiter.reject(new SchedulerClosedError());
  }
}
