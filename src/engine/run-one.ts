import type { Logger } from 'pino';
import type { Check } from '../checks/check.js';
import type { Target } from '../targets/target.js';
import type { Result } from './result.js';
import { startRun } from './run.js';

/** One check against one target, on demand (GET /probe). */
export interface RunOneSpec {
  readonly check: Check<unknown>;
  /** Already validated by `check.args`. */
  readonly args: unknown;
  readonly target: Target;
  /** The deadline of the check (default: the check's `timeoutMs`). */
  readonly timeoutMs?: number;
  /** Aborting yields a `cancelled` result. */
  readonly signal?: AbortSignal;
  readonly resolve?: (name: string, signal: AbortSignal) => Promise<string[]>;
  readonly log?: Logger;
}

/**
 * Runs one check against one target through the engine's own path (`startRun` with a single target, no
 * retries): the same deadline, name resolution and status rules as a run. Resolves to its one result; never
 * rejects for a down target.
 */
export async function runOne(spec: RunOneSpec): Promise<Result> {
  const execution = startRun({
    check: spec.check,
    args: spec.args,
    targets: single(spec.target),
    total: 1,
    concurrency: 1,
    retries: 0,
    timeoutMs: spec.timeoutMs ?? spec.check.timeoutMs,
    signal: spec.signal,
    resolve: spec.resolve,
    log: spec.log,
  });
  for await (const result of execution.results()) return result;
  throw new Error('the engine produced no result for a single target');
}

async function* single(target: Target): AsyncGenerator<Target, void, undefined> {
  yield target;
}
