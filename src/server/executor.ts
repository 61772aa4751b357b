import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Check } from '../checks/check.js';
import type { Result } from '../engine/result.js';
import { startRun } from '../engine/run.js';
import type { RunExecution } from '../engine/types.js';
import type { RunRecord } from '../store/store.js';
import type { Target } from '../targets/target.js';

/** What an executor needs to run one run (validated by the RunManager). */
export interface ExecuteSpec {
  check: Check<unknown>;
  args: unknown;
  targets: AsyncIterable<Target>;
  total?: number;
  concurrency: number;
  timeoutMs?: number;
  retries: number;
  ratePerSec?: number;
}

/**
 * Where a run's checks execute: in this process (LocalExecutor) or on workers (distributed mode swaps this).
 * Yields one result per target; aborting `signal` cancels (remaining targets yield `cancelled`). Breaking out
 * of the iterable must stop the work.
 */
export interface Executor {
  execute(run: RunRecord, spec: ExecuteSpec, signal: AbortSignal): AsyncIterable<Result>;
  /** Optional live numbers for progress and /metrics. */
  progress?(runId: string): { inFlight: number } | undefined;
  /** Told after each batch of a run's results is durably stored (distributed mode acks its messages then). */
  onStored?(runId: string, results: readonly Result[]): void;
  /** Extra Prometheus lines for /metrics (distributed mode: worker liveness). */
  metrics?(): string;
  /** Extra read-role routes (distributed mode: GET /api/v1/workers). */
  routes?: FastifyPluginAsync;
  /**
   * Distributed mode: runs whose execution survives this process (a restarted server resumes them).
   * When present, closing the executor detaches running runs (`execute` throws FP_DIST_DETACHED) instead of
   * the server cancelling them.
   */
  resumableRuns?(): Promise<string[]>;
  /** Releases what the executor holds (NATS connection); called when the server closes. */
  close?(): Promise<void>;
}

/** Runs checks in-process with the engine (`startRun`). */
export class LocalExecutor implements Executor {
  readonly #live = new Map<string, RunExecution>();
  readonly #log: Logger | undefined;

  constructor(opts: { log?: Logger } = {}) {
    this.#log = opts.log;
  }

  async *execute(
    run: RunRecord,
    spec: ExecuteSpec,
    signal: AbortSignal,
  ): AsyncGenerator<Result, void, undefined> {
    const execution = startRun({
      id: run.id,
      check: spec.check,
      args: spec.args,
      targets: spec.targets,
      concurrency: spec.concurrency,
      retries: spec.retries,
      signal,
      ...(spec.total !== undefined ? { total: spec.total } : {}),
      ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
      ...(spec.ratePerSec !== undefined ? { ratePerSec: spec.ratePerSec } : {}),
      ...(this.#log ? { log: this.#log } : {}),
    });
    this.#live.set(run.id, execution);
    try {
      yield* execution.results();
    } finally {
      this.#live.delete(run.id);
    }
  }

  progress(runId: string): { inFlight: number } | undefined {
    const p = this.#live.get(runId)?.progress();
    return p ? { inFlight: p.inFlight } : undefined;
  }
}
