import type { Logger } from 'pino';
import type { Check } from '../checks/check.js';
import type { Target } from '../targets/target.js';
import type { LinesBatch } from './outcome-batch.js';
import type { Result } from './result.js';
import { startRun } from './run.js';
import type { RunOptions } from './run-options.js';
import type { RunExecution, RunProgress } from './types.js';

/** What an executor needs to run one run: the check, its validated arguments, the targets and the options. */
export interface ExecuteSpec extends Readonly<Partial<Pick<RunOptions, 'timeoutMs' | 'ratePerSec'>>> {
  readonly check: Check<unknown>;
  /** Validated by the check's schema. */
  readonly args: unknown;
  /** Streamed; on cancel the remaining targets are still drained as `cancelled` results. */
  readonly targets: AsyncIterable<Target>;
  readonly total?: number;
  readonly concurrency: number;
  readonly retries: number;
}

/**
 * A consumer that needs of results only their JSONL lines and outcome summary (`run -o jsonl|summary|groups`
 * with no store or search index). An executor whose results arrive as text (from worker threads) may hand
 * it whole batches instead of yielding their results: no object is made, the text is written as it came.
 * It still yields the results it makes itself; the consumer takes both, in the order they come.
 */
export interface BatchSink {
  /** Whether the batches' `lines` are wanted (else only their outcomes). */
  readonly lines: boolean;
  /**
   * Takes a batch; the executor waits for the promise before handing over more (backpressure). The batch's
   * `lines` are the executor's again once the promise settles (it reuses their buffer): copy what is kept.
   */
  take(batch: LinesBatch): Promise<void>;
}

/**
 * The port through which a run's checks execute: in this process (`LocalExecutor`) or on workers
 * (src/distributed swaps this). `execute` yields one result per target; aborting `signal` cancels (remaining
 * targets yield `cancelled`); breaking out of the iterable stops the work. Given a `sink`, it may hand some
 * results to it in batches instead of yielding them (each result goes one way). The one run lifecycle
 * (`StoredRun`) drives it; nothing else needs to know where checks run.
 */
export interface Executor {
  execute(
    run: { readonly id: string },
    spec: ExecuteSpec,
    signal: AbortSignal,
    sink?: BatchSink,
  ): AsyncIterable<Result>;
  /** Live numbers for progress and /metrics. */
  progress?(runId: string): { inFlight: number } | undefined;
  /** Told after each batch of a run's results is durably stored (distributed mode acks its messages then). */
  onStored?(runId: string, results: readonly Result[]): void;
  /** Runs whose execution survives this process and that this process should resume (distributed mode). */
  resumableRuns?(): Promise<string[]>;
  /**
   * Lets go of the runs in progress without ending them (distributed mode, at shutdown): their `execute`
   * throws `FP_DIST_DETACHED` and they stay `running` for the next process to resume. Absent: runs in progress
   * are finished or cancelled by their owner.
   */
  detach?(): Promise<void>;
  /** Releases what the executor holds (a NATS connection). */
  close?(): Promise<void>;
}

const ENDED_KEPT = 16;

/**
 * The final progress of the last runs an executor ended (the newest ENDED_KEPT): its `progress` still answers
 * after a run's last result, for the summary written then (its overload line).
 */
export class EndedRuns {
  readonly #progress = new Map<string, RunProgress>();

  add(runId: string, progress: RunProgress): void {
    this.#progress.set(runId, progress);
    if (this.#progress.size > ENDED_KEPT) this.#progress.delete(this.#progress.keys().next().value!);
  }

  get(runId: string): RunProgress | undefined {
    return this.#progress.get(runId);
  }
}

/** Runs checks in this process with the engine (`startRun`). */
export class LocalExecutor implements Executor {
  readonly #live = new Map<string, RunExecution>();
  readonly #ended = new EndedRuns();
  readonly #log: Logger | undefined;
  readonly #resolve: ((name: string, signal: AbortSignal) => Promise<string[]>) | undefined;

  /** `resolve`: resolver for targets given by name (default: the system resolver). */
  constructor(
    opts: { log?: Logger; resolve?: (name: string, signal: AbortSignal) => Promise<string[]> } = {},
  ) {
    this.#log = opts.log;
    this.#resolve = opts.resolve;
  }

  execute(
    run: { readonly id: string },
    spec: ExecuteSpec,
    signal: AbortSignal,
  ): AsyncGenerator<Result, void, undefined> {
    return new LocalResults(() => {
      const execution = startRun({
        id: run.id,
        check: spec.check,
        args: spec.args,
        targets: spec.targets,
        total: spec.total,
        concurrency: spec.concurrency,
        retries: spec.retries,
        timeoutMs: spec.timeoutMs,
        ratePerSec: spec.ratePerSec,
        resolve: this.#resolve,
        log: this.#log,
        signal,
      });
      this.#live.set(run.id, execution);
      return {
        results: execution.results(),
        ended: () => {
          this.#live.delete(run.id);
          this.#ended.add(run.id, execution.progress());
        },
      };
    });
  }

  /** Live counters of a run executing here, or the final ones of one of the last runs that ended here. */
  progress(runId: string): RunProgress | undefined {
    return this.#live.get(runId)?.progress() ?? this.#ended.get(runId);
  }
}

/**
 * A local run's results as `async *execute() { start; try { yield* results } finally { ended } }` would give
 * them, written by hand: a generator's `yield*` costs several promises and turns per result on top of the
 * run's own iterator (one per target, hundreds of thousands a run). The run starts at the first `next()`, as
 * the generator's body would; `ended` runs once, when the results end, fail, or the consumer stops.
 */
class LocalResults implements AsyncGenerator<Result, void, undefined> {
  readonly #start: () => { results: AsyncGenerator<Result, void, undefined>; ended: () => void };
  #results: AsyncGenerator<Result, void, undefined> | undefined;
  #ended: (() => void) | undefined;
  #done = false;
  readonly #onValue = (item: IteratorResult<Result, void>): IteratorResult<Result, void> => {
    if (item.done) this.#end();
    return item;
  };
  readonly #onError = (err: unknown): never => {
    this.#end();
    throw err;
  };

  constructor(start: () => { results: AsyncGenerator<Result, void, undefined>; ended: () => void }) {
    this.#start = start;
  }

  #end(): void {
    this.#done = true;
    const ended = this.#ended;
    this.#ended = undefined;
    ended?.();
  }

  next(): Promise<IteratorResult<Result, void>> {
    if (this.#done) return Promise.resolve(LOCAL_DONE);
    let results = this.#results;
    if (results === undefined) {
      try {
        const started = this.#start();
        results = started.results;
        this.#results = results;
        this.#ended = started.ended;
      } catch (err) {
        this.#done = true;
        return Promise.reject(err);
      }
    }
    return results.next().then(this.#onValue, this.#onError);
  }

  return(): Promise<IteratorResult<Result, void>> {
    const results = this.#results;
    if (this.#done || results === undefined) {
      this.#done = true;
      return Promise.resolve(LOCAL_DONE);
    }
    return this.#finish(results.return(undefined));
  }

  throw(err: unknown): Promise<IteratorResult<Result, void>> {
    const results = this.#results;
    if (this.#done || results === undefined) {
      this.#done = true;
      return Promise.reject(err);
    }
    return this.#finish(results.throw(err));
  }

  /** The consumer stopped the run's results (`return` or `throw`): done now, `ended` once they have settled. */
  #finish(settling: Promise<unknown>): Promise<IteratorResult<Result, void>> {
    this.#done = true;
    return settling.then(
      () => {
        this.#end();
        return LOCAL_DONE;
      },
      (err: unknown) => {
        this.#end();
        throw err;
      },
    );
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const LOCAL_DONE: IteratorResult<never, void> = { value: undefined, done: true };
