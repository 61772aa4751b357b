import type { Logger } from 'pino';
import { delay } from '../core/deadline.js';
import { describeError, InterruptedError, isFleetprobeError } from '../core/errors.js';
import type { ExecuteSpec, Executor } from '../engine/executor.js';
import { addCounts, emptyCounts, type Result, type StatusCounts } from '../engine/result.js';
import type { RunOptions } from '../engine/run-options.js';
import { StoreWriteError, storeResults } from '../sinks/store-sink.js';
import type { RunRecord, RunState, Store } from '../store/store.js';

/** The fields of a new run record; the rest start empty. */
export interface NewRun {
  id: string;
  check: string;
  /** As given (JSON), not as validated. */
  args: unknown;
  /** The target selection as described by the caller, e.g. `{specs, files, resolve}`. */
  targets: unknown;
  options: RunOptions;
  total: number | null;
  /** The monitor this run is a round of (default none). */
  monitor?: string | null;
}

/** A run record in state `queued`, ready for `Store.createRun`. */
export function newRunRecord(run: NewRun): RunRecord {
  return {
    id: run.id,
    check: run.check,
    args: run.args,
    targets: run.targets,
    options: run.options,
    state: 'queued',
    total: run.total,
    counts: emptyCounts(),
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    error: null,
    monitor: run.monitor ?? null,
    owner: null,
  };
}

export interface StoredRunOptions {
  store: Store;
  executor: Executor;
  /** The run as created in the store (`newRunRecord` + `createRun`), or as left by a previous process. */
  record: RunRecord;
  spec: ExecuteSpec;
  /** Aborting cancels the run; with an `InterruptedError` as reason the run ends `interrupted`. */
  signal: AbortSignal;
  /** The lease id of this process (`OwnerLease.id`), written as the run's owner. */
  owner: string | null;
  /** The run was started by a previous process: counters start from (and are rewritten from) the stored rows. */
  resume?: boolean;
  /**
   * Told each batch of results after it is stored (its rows exist; redelivered duplicates included). A returned
   * promise is awaited before the next batch is written: a slow consumer (a search index) slows the run.
   */
  onStored?: (results: readonly Result[]) => void | Promise<void>;
  /** How often the counters of the running run are written, in ms (default 1000). */
  progressWriteMs?: number;
  /** Results per store write (default 500) and the longest a partial batch waits, in ms (default 200). */
  batchSize?: number;
  flushMs?: number;
  log?: Logger;
}

/** How a run ended. `detached`: the executor let go of it (distributed shutdown); it stays `running`. */
export interface RunOutcome {
  state: RunState;
  error: string | null;
  detached: boolean;
}

/**
 * The one run lifecycle: takes a stored run from its record through an `Executor` into the store and to its
 * final state. `run --db`, the API's RunManager, monitors and distributed mode all drive runs through it.
 *
 * `results()` marks the run `running` (owned by `owner`), executes it, yields every result as it arrives
 * while storing them in batches (one write in flight: a slow store slows the run), keeps `counts` from the
 * rows NEWLY inserted (a redelivered result never counts twice), writes the counters every
 * `progressWriteMs`, and at the end writes the final state (retried for ~15 s while the store is away):
 * - `done`: every target has a result;
 * - `cancelled` / `interrupted`: `signal` aborted (an `InterruptedError` reason means interrupted; the
 *   counters are then recomputed from the stored rows);
 * - `failed`: results could not be stored or the executor failed: `results()` then throws that error;
 * - detached: the executor threw `FP_DIST_DETACHED`; nothing is written, the next process resumes the run.
 * Breaking out of `results()` early cancels the run and ends it `cancelled`.
 */
export class StoredRun {
  readonly #o: StoredRunOptions;
  readonly #counts: StatusCounts;
  readonly #log: Logger | undefined;
  #outcome: RunOutcome | undefined;
  #started = false;
  #progressWrite: Promise<void> | undefined;

  constructor(opts: StoredRunOptions) {
    this.#o = opts;
    this.#counts = { ...opts.record.counts };
    this.#log = opts.log;
  }

  get id(): string {
    return this.#o.record.id;
  }

  /** Per-status counts of the results stored so far by this run (a snapshot). */
  get counts(): StatusCounts {
    return { ...this.#counts };
  }

  /** How the run ended; undefined while it runs. */
  get outcome(): RunOutcome | undefined {
    return this.#outcome;
  }

  async *results(): AsyncGenerator<Result, void, undefined> {
    if (this.#started) throw new Error('StoredRun.results() can be iterated only once');
    this.#started = true;
    const { store, executor, record, signal } = this.#o;
    const startedAt = record.startedAt ?? new Date().toISOString();
    if (this.#o.resume) Object.assign(this.#counts, await store.countResults(record.id));
    await store.updateRun(record.id, {
      state: 'running',
      startedAt,
      owner: this.#o.owner,
      ...(this.#o.resume ? { counts: this.counts } : {}),
    });
    record.state = 'running';
    record.startedAt = startedAt;
    record.owner = this.#o.owner;

    const interval = setInterval(() => this.#writeProgress(), this.#o.progressWriteMs ?? 1000);
    let failure: unknown;
    let completed = false;
    let detached = false;
    try {
      const stored = storeResults(store, executor.execute(record, this.#o.spec, signal), {
        batchSize: this.#o.batchSize,
        flushMs: this.#o.flushMs,
        onCounts: async (c, batch) => {
          addCounts(this.#counts, c);
          executor.onStored?.(record.id, batch);
          await this.#o.onStored?.(batch);
        },
        onError: (err, batch) =>
          this.#log?.error({ err, run: record.id, results: batch.length }, 'results not stored'),
      });
      yield* stored;
      completed = true;
    } catch (err) {
      if (isFleetprobeError(err, 'FP_DIST_DETACHED')) detached = true;
      else failure = err;
    } finally {
      clearInterval(interval);
      await this.#progressWrite;
      if (detached) {
        this.#log?.info({ run: record.id }, 'run detached; the next process resumes it');
        this.#outcome = { state: 'running', error: null, detached: true };
      } else {
        await this.#finish(failure, completed);
      }
    }
    if (this.#outcome?.state === 'failed') throw failure;
  }

  async #finish(failure: unknown, completed: boolean): Promise<void> {
    const { store, record, signal } = this.#o;
    let state: RunState;
    if (failure !== undefined && (failure instanceof StoreWriteError || !signal.aborted)) state = 'failed';
    else if (signal.aborted) state = signal.reason instanceof InterruptedError ? 'interrupted' : 'cancelled';
    else state = completed ? 'done' : 'cancelled'; // the consumer stopped reading
    const error = state === 'failed' ? describeError(failure) : null;
    if (state === 'failed') this.#log?.error({ err: failure, run: record.id }, 'run failed');
    if (state === 'interrupted') {
      // The rows are the truth; a batch given up on is not in them.
      await store
        .countResults(record.id)
        .then((c) => Object.assign(this.#counts, c))
        .catch(() => {});
    }
    const patch = { state, error, finishedAt: new Date().toISOString(), counts: this.counts };
    Object.assign(record, patch);
    this.#outcome = { state, error, detached: false };
    for (let attempt = 0; ; attempt++) {
      try {
        await store.updateRun(record.id, patch);
        return;
      } catch (err) {
        if (attempt >= 5) {
          this.#log?.error(
            { err, run: record.id },
            'final run state not written; the run is marked interrupted once this lease expires',
          );
          return;
        }
        await delay(500 * 2 ** attempt);
      }
    }
  }

  #writeProgress(): void {
    if (this.#progressWrite) return; // the previous write is still going: skip this tick
    const { store, record } = this.#o;
    this.#progressWrite = store
      .updateRun(record.id, { counts: this.counts })
      .catch((err: unknown) => this.#log?.warn({ err, run: record.id }, 'progress not written'))
      .finally(() => {
        this.#progressWrite = undefined;
      });
  }
}
