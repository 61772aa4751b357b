import { delay } from '../core/deadline.js';
import { FleetprobeError } from '../core/errors.js';
import type { Result, StatusCounts } from '../engine/result.js';
import type { Store } from '../store/store.js';

/** Some results could not be stored (after retries). Code `FP_STORE_WRITE`; `lost` counts them; `cause` is the last error. */
export class StoreWriteError extends FleetprobeError {
  readonly lost: number;
  constructor(lost: number, cause: unknown) {
    super(
      'FP_STORE_WRITE',
      `${lost} result(s) could not be stored: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.lost = lost;
  }
}

export interface StoreResultsOptions {
  /** Results per write (default 500). */
  batchSize?: number;
  /** A partial batch is written once its first result is this old, in ms (default 200). */
  flushMs?: number;
  /** Extra attempts for a failed write, with 250 ms, 500 ms, ... between them (default 2). Inserts are idempotent, so a retry never duplicates. */
  writeRetries?: number;
  /**
   * Called after each successful write with the counts of NEWLY stored rows (redelivered duplicates count zero).
   * A returned promise is awaited before the next write (a slow consumer slows the run, as a slow store does);
   * it must not reject.
   */
  onCounts?: (counts: StatusCounts, batch: readonly Result[]) => void | Promise<void>;
  /** Called when a batch is given up on (after retries). */
  onError?: (err: unknown, batch: readonly Result[]) => void;
  /** Aborting stops retry waits (the batch then counts as lost). */
  signal?: AbortSignal;
}

/**
 * A pass-through that stores results while they flow on: `for await (const r of storeResults(store, run.results()))`.
 * Each result is yielded as soon as it arrives; results are grouped by size and time and written one batch at
 * a time, the write of batch N overlapping the collection of batch N+1; at most one write is in flight, so a slow
 * database slows the run down (backpressure) instead of piling results up in memory.
 *
 * Failure policy: a failed write is retried (`writeRetries`); a batch that still fails is reported through
 * `onError` and the results keep flowing to the consumer; when the source ends, the generator throws
 * `StoreWriteError` naming how many results were not stored. When the source itself throws, the results
 * received so far are written first, then its error propagates. So a run never loses results silently, and
 * the terminal output is complete even when the database is not. Breaking out early waits for the write
 * in flight (no unowned promise) and does not throw.
 */
export async function* storeResults(
  store: Store,
  results: AsyncIterable<Result>,
  opts: StoreResultsOptions = {},
): AsyncGenerator<Result, void, undefined> {
  const size = opts.batchSize ?? 500;
  const maxWaitMs = opts.flushMs ?? 200;
  const retries = opts.writeRetries ?? 2;
  let lost = 0;
  let lastError: unknown;
  let hookError: unknown;

  const write = async (rows: Result[]): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      let counts: StatusCounts;
      try {
        counts = await store.insertResults(rows);
      } catch (err) {
        lastError = err;
        if (attempt >= retries || opts.signal?.aborted) break;
        try {
          await delay(250 * 2 ** attempt, opts.signal);
        } catch {
          break;
        }
        continue;
      }
      try {
        await opts.onCounts?.(counts, rows);
      } catch (err) {
        hookError ??= err; // a fault of the caller's hook: thrown once the source ends
      }
      return;
    }
    lost += rows.length;
    opts.onError?.(lastError, rows);
  };

  // Writes are chained (`write` never rejects), so they run one at a time and in order.
  let writing: Promise<void> = Promise.resolve();
  const enqueue = (group: Result[]) => {
    writing = writing.then(() => write(group));
  };
  // The partial batch is handed to the write chain by a timer, not by racing every read against a timer:
  // no per-result promise juggling on the hot path.
  let current: Result[] = [];
  let timer: NodeJS.Timeout | undefined;
  const onTimer = () => {
    timer = undefined;
    if (current.length === 0) return;
    const group = current;
    current = [];
    enqueue(group);
  };
  try {
    for await (const result of results) {
      current.push(result);
      if (current.length === 1) timer = setTimeout(onTimer, maxWaitMs);
      if (current.length >= size) {
        clearTimeout(timer);
        timer = undefined;
        const group = current;
        current = [];
        await writing; // backpressure: one write in flight while the next batch fills
        enqueue(group);
      }
      yield result;
    }
  } finally {
    // Also when the source throws or the consumer breaks out: what was received is written first.
    clearTimeout(timer);
    if (current.length > 0) enqueue(current);
    current = [];
    await writing;
  }
  if (hookError !== undefined) throw hookError;
  if (lost > 0) throw new StoreWriteError(lost, lastError);
}
