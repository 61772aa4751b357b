import { Channel } from './channel.js';
import { Scheduler } from './scheduler.js';

/**
 * Maps `source` through `fn` with at most `limit` calls in flight, yielding in order of completion.
 * Reads the source only as fast as results are consumed (at most `limit` mapped values buffered).
 * Breaking out of the loop aborts in-flight calls (their signal) and closes the source.
 * The first error thrown by `fn` aborts the rest and is rethrown to the consumer.
 */
export async function* mapConcurrent<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  fn: (item: T, signal: AbortSignal) => Promise<R>,
  options: { limit: number; signal?: AbortSignal },
): AsyncGenerator<R, void, undefined> {
  const scheduler = new Scheduler({ limit: options.limit, pendingLimit: 0, signal: options.signal });
  const out = new Channel<R>(options.limit);
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    if (!failure) failure = { error };
    scheduler.destroy(error);
  };
  const produce = async () => {
    try {
      for await (const item of source) {
        if (scheduler.signal.aborted || out.closed) break;
        await scheduler.spawn(async (signal) => {
          try {
            await out.push(await fn(item, signal));
          } catch (error) {
            fail(error);
          }
        });
      }
    } catch (error) {
      if (!scheduler.signal.aborted) fail(error);
    } finally {
      await scheduler.close();
      out.end(failure?.error);
    }
  };
  const producing = produce();
  try {
    yield* out;
  } finally {
    scheduler.destroy();
    await producing;
  }
}

/**
 * Groups items into arrays of at most `size`, emitting a partial batch once `maxWaitMs` has passed since
 * its first item. The source is read ahead by at most one item; breaking out closes it.
 */
export async function* batch<T>(
  source: AsyncIterable<T>,
  options: { size: number; maxWaitMs: number },
): AsyncGenerator<T[], void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  let current: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  let timerFired: Promise<'timeout'> | undefined;
  try {
    for (;;) {
      pending ??= iterator.next();
      const next = timerFired ? await Promise.race([pending, timerFired]) : await pending;
      if (next === 'timeout') {
        timerFired = undefined;
        const out = current;
        current = [];
        yield out;
        continue;
      }
      pending = undefined;
      if (next.done) break;
      current.push(next.value);
      if (current.length === 1) {
        timerFired = new Promise((resolve) => {
          timer = setTimeout(() => resolve('timeout'), options.maxWaitMs);
        });
      }
      if (current.length >= options.size) {
        clearTimeout(timer);
        timerFired = undefined;
        const out = current;
        current = [];
        yield out;
      }
    }
    if (current.length > 0) yield current;
  } finally {
    clearTimeout(timer);
    if (pending) pending.catch(() => {}); // an in-flight read we no longer want
    await iterator.return?.();
  }
}

/** Interleaves several async iterables in arrival order; breaking out closes them all. */
export async function* merge<T>(...sources: AsyncIterable<T>[]): AsyncGenerator<T, void, undefined> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const next = (i: number) => iterators[i]!.next().then((result) => ({ i, result }));
  const inFlight = new Map<number, Promise<{ i: number; result: IteratorResult<T> }>>();
  for (let i = 0; i < iterators.length; i++) inFlight.set(i, next(i));
  try {
    while (inFlight.size > 0) {
      const { i, result } = await Promise.race(inFlight.values());
      if (result.done) {
        inFlight.delete(i);
        continue;
      }
      inFlight.set(i, next(i));
      yield result.value;
    }
  } finally {
    for (const p of inFlight.values()) p.catch(() => {});
    await Promise.allSettled([...inFlight.keys()].map((i) => iterators[i]!.return?.()));
  }
}
