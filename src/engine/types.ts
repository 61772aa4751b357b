import type { Logger } from 'pino';
import type { Check } from '../checks/check.js';
import type { Target } from '../targets/target.js';
import type { OverloadCounters } from './overload.js';
import type { Result, StatusCounts } from './result.js';

/** Everything a run needs, validated at the edge (CLI, API, shard message) and frozen. */
export interface RunSpec {
  /** Run id; generated when absent. */
  readonly id?: string;
  readonly check: Check<unknown>;
  /** Already validated by `check.args`. */
  readonly args: unknown;
  /** Streamed, never materialised. */
  readonly targets: AsyncIterable<Target>;
  /** Number of targets when known up front (for progress and ETA). */
  readonly total?: number;
  /** Checks in flight (default 256): with adaptive concurrency, the ceiling. */
  readonly concurrency?: number;
  /**
   * Lower the in-flight limit while this process's event loop lags and raise it again on recovery (AIMD,
   * `concurrency` the ceiling). Default true.
   */
  readonly adaptiveConcurrency?: boolean;
  /** Per-target deadline; default: the check's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** Retries after `error`/`timeout` (default 0). */
  readonly retries?: number;
  /** Most checks started per second (default: unlimited). */
  readonly ratePerSec?: number;
  /** Aborting cancels the run: in-flight checks are aborted, remaining targets become `cancelled`. */
  readonly signal?: AbortSignal;
  /** Resolver for targets given by name (default: the system resolver). */
  readonly resolve?: (name: string, signal: AbortSignal) => Promise<string[]>;
  readonly log?: Logger;
}

/** Live counters of a run. */
export interface RunProgress {
  readonly id: string;
  readonly check: string;
  readonly startedAt: number;
  readonly total: number | undefined;
  readonly done: number;
  readonly inFlight: number;
  readonly counts: Readonly<StatusCounts>;
  /** How the run coped with its own overload (event-loop stalls); absent from executors that do not know. */
  readonly overload?: RunOverload;
}

/** A run's view of its client's overload. */
export interface RunOverload extends OverloadCounters {
  /** Event-loop stalls (blocked >= 200 ms) during the run, and the longest, ms. */
  readonly stalls: number;
  readonly longestStallMs: number;
  /** The in-flight limit now, its lowest during the run, and its ceiling (`concurrency`). */
  readonly concurrencyLimit: number;
  readonly concurrencyCeiling: number;
  readonly lowestConcurrency: number;
}

export type { Result };

/**
 * A run in progress, returned by `startRun(spec)` (src/engine/run.ts). `results()` may be iterated once;
 * breaking out of it cancels the run and closes the target source. `progress()` is a cheap snapshot.
 */
export interface RunExecution {
  readonly id: string;
  progress(): RunProgress;
  results(): AsyncGenerator<Result, void, undefined>;
  /**
   * Optional, called before `results()` is iterated: each result is first offered to `sink` as it is made, in
   * the engine's call (no promise per result); what `sink` refuses (false: its consumer is behind) and the end
   * still come through `results()`, which must be iterated as before. `sink` must not throw.
   */
  sinkTo?(sink: (result: Result) => boolean): void;
  /** Cancels: in-flight checks are aborted; every remaining target yields a `cancelled` result. */
  cancel(reason?: unknown): void;
}
