import type { Logger } from 'pino';
import type { CheckRegistry } from '../../src/checks/registry.js';
import { validateCheckArgs } from '../../src/checks/validate-args.js';
import type { Executor } from '../../src/engine/executor.js';
import { runOptionsSchema } from '../../src/engine/run-options.js';
import { newRunRecord, StoredRun } from '../../src/engine/stored-run.js';
import type { RunRoundPort } from '../../src/monitor/round-port.js';
import type { Store } from '../../src/store/index.js';

/** Checks in flight per round when the spec does not say (a fleet round at 60 s needs more than `run`'s 256). */
const DEFAULT_ROUND_CONCURRENCY = 1024;

/**
 * The bench's `RunRoundPort`: each round becomes a stored run (`newRunRecord` with `monitor` set, `createRun`)
 * driven through the one run lifecycle (`StoredRun`) on `executor`, with `onStored` handed to it as is.
 * The same wiring the server does for monitors (branch `monwire`); kept here until that lands so the bench
 * measures the real path: store writes, the engine, the check.
 */
export function storedRoundPort(opts: {
  readonly store: Store;
  readonly executor: Executor;
  readonly checks: CheckRegistry;
  readonly log?: Logger;
}): RunRoundPort {
  return async (round, onStored) => {
    const { monitor } = round;
    const check = opts.checks.get(monitor.check);
    const args = validateCheckArgs(check, monitor.args);
    const options = runOptionsSchema.parse({
      concurrency: monitor.concurrency ?? DEFAULT_ROUND_CONCURRENCY,
      timeoutMs: monitor.timeoutMs,
    });
    const record = newRunRecord({
      id: round.runId,
      check: check.name,
      args: monitor.args,
      targets: { monitor: monitor.name, inventory: monitor.inventory },
      options,
      total: round.expectedCount,
      monitor: monitor.name,
    });
    await opts.store.createRun(record);
    const run = new StoredRun({
      store: opts.store,
      executor: opts.executor,
      record,
      spec: { check, args, targets: round.targets, total: round.expectedCount, ...options },
      signal: round.signal,
      owner: null,
      onStored,
      log: opts.log,
    });
    try {
      for await (const _ of run.results()) {
        // stored and handed to onStored by the lifecycle
      }
    } catch {
      // `failed`: the outcome says so
    }
    const outcome = run.outcome;
    if (!outcome || outcome.detached || outcome.state === 'running' || outcome.state === 'queued') {
      return { state: 'interrupted' };
    }
    return { state: outcome.state };
  };
}
