import type { Logger } from 'pino';
import type { CheckRegistry } from '../checks/registry.js';
import { describeError } from '../core/errors.js';
import type { Result } from '../engine/result.js';
import type { RunExecution, RunSpec } from '../engine/types.js';
import type { Target } from '../targets/target.js';
import { type ShardMessage, syntheticResult } from './messages.js';
import { pacedTargets, type StartGrants } from './rate.js';

/** What of a shard message decides how its targets run (the targets travel separately). */
export type ShardHead = Pick<ShardMessage, 'runId' | 'check' | 'args' | 'options'> & {
  readonly count?: number;
};

/** Where a shard runs: the same for a NATS worker and a thread of the thread executor. */
export interface ShardRunContext {
  readonly registry: CheckRegistry;
  /** The engine (`startRun`). */
  readonly engine: (spec: RunSpec) => RunExecution;
  /** Most checks in flight here (caps the run's own `concurrency`). Absent: the run's own. */
  readonly concurrency?: number;
  /** Start grants of a rate-limited run (its one global bucket is held elsewhere). */
  readonly grants?: StartGrants;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Resolver for targets given by name (default: the engine's, the system resolver). */
  readonly resolve?: (name: string, signal: AbortSignal) => Promise<string[]>;
  /** Names who cannot run a check, in the `error` results (e.g. `worker w1`). */
  readonly who: string;
}

export interface ShardRun {
  /** One result per target. */
  readonly results: AsyncIterable<Result>;
  /** The engine's execution (live progress), absent when the check cannot run here. */
  readonly exec?: RunExecution;
}

/** Results for targets that never ran (a check this process cannot run, a dead-lettered shard, a cancel). */
export async function* syntheticResults(
  head: ShardHead,
  targets: Iterable<Target> | AsyncIterable<Target>,
  status: 'error' | 'cancelled',
  message: string,
  registry: CheckRegistry,
): AsyncGenerator<Result> {
  const ports = {
    args: head.args,
    defaultPort: registry.has(head.check) ? registry.get(head.check).defaultPort : undefined,
  };
  for await (const t of targets) yield syntheticResult(head.runId, head.check, t, status, message, ports);
}

/** The targets as an async iterable: as they are when they already are one (a layer less per target). */
function iterate(targets: Iterable<Target> | AsyncIterable<Target>): AsyncIterable<Target> {
  if (Symbol.asyncIterator in targets) return targets;
  return (async function* () {
    yield* targets;
  })();
}

/**
 * Turns a shard into results: looks its check up, validates its arguments with the check's own schema,
 * builds the engine's RunSpec (targets paced by `grants` for a rate-limited run) and starts the engine.
 * A check that cannot run here gives every target an `error` result instead.
 */
export function runShard(
  head: ShardHead,
  targets: Iterable<Target> | AsyncIterable<Target>,
  ctx: ShardRunContext,
): ShardRun {
  let spec: RunSpec;
  try {
    const check = ctx.registry.get(head.check);
    const args = check.args.parse(head.args);
    spec = {
      id: head.runId,
      check,
      args,
      targets: ctx.grants ? pacedTargets(targets, ctx.grants, ctx.signal) : iterate(targets),
      ...(head.count !== undefined ? { total: head.count } : {}),
      concurrency: Math.max(1, Math.min(ctx.concurrency ?? Infinity, head.options.concurrency)),
      retries: head.options.retries,
      signal: ctx.signal,
      log: ctx.log,
      ...(ctx.resolve ? { resolve: ctx.resolve } : {}),
      ...(head.options.timeoutMs !== undefined ? { timeoutMs: head.options.timeoutMs } : {}),
    };
  } catch (err) {
    const message = `${ctx.who} cannot run check: ${describeError(err)}`;
    return { results: syntheticResults(head, targets, 'error', message, ctx.registry) };
  }
  const exec = ctx.engine(spec);
  return { results: exec.results(), exec };
}
