import type { Logger } from 'pino';
import type { Check } from '../checks/check.js';
import type { Executor } from '../engine/executor.js';
import type { Result } from '../engine/result.js';
import type { MonitorSpec } from '../model/monitor-spec.js';
import { newRunRecord, StoredRun } from '../runs/stored-run.js';
import type { Store } from '../store/store.js';
import type { Target } from '../targets/target.js';
import type { RoundEndState, RunRoundPort } from './round-port.js';

export interface StoredRoundOptions {
  readonly store: Store;
  /** Where the round's checks run: the server's executor (local, or the JetStream workers with `--nats`). */
  readonly executor: Executor;
  /**
   * The check and its validated arguments for a round of `spec`, resolved again each round (named credentials
   * may have changed). Throws when the spec no longer validates: the round then ends `failed`.
   */
  readonly prepare: (spec: MonitorSpec) => { check: Check<unknown>; args: unknown };
  /** The lease id of this process (`OwnerLease.id`), written as each round's owner. */
  readonly owner: () => string | null;
  /** Told every batch of results once stored, after the monitor (a search index, as for runs). */
  readonly onStored?: (results: readonly Result[]) => void;
  /** Told each result as the round yields it (the server's check counters). */
  readonly onResult?: (result: Result) => void;
  readonly log?: Logger;
}

/**
 * The `RunRoundPort` of a process with a store: each round is a stored run (`newRunRecord` with `monitor`
 * set, then `StoredRun` through the given executor), so the run views, SSE and diff work on rounds, and with
 * `--nats` the rounds run on the workers. The monitor's labels are added to each target's (the target's own
 * win). A run the executor detached (distributed shutdown) counts as `interrupted` for the monitor.
 */
export function storedRoundPort(opts: StoredRoundOptions): RunRoundPort {
  return async (round, onStored) => {
    const { monitor: spec } = round;
    const { check, args } = opts.prepare(spec);
    const options = { concurrency: spec.concurrency ?? 256, retries: 0, timeoutMs: spec.timeoutMs };
    const record = newRunRecord({
      id: round.runId,
      check: check.name,
      args: spec.args,
      targets: { monitor: spec.name, seq: round.seq, inventory: spec.inventory },
      options,
      total: round.expectedCount,
      monitor: spec.name,
    });
    await opts.store.createRun(record);
    const run = new StoredRun({
      store: opts.store,
      executor: opts.executor,
      record,
      spec: {
        check,
        args,
        targets: withLabels(round.targets, spec.labels),
        total: round.expectedCount,
        ...options,
      },
      signal: round.signal,
      owner: opts.owner(),
      onStored: opts.onStored
        ? (batch) => {
            onStored(batch);
            opts.onStored?.(batch);
          }
        : onStored,
      log: opts.log,
    });
    try {
      for await (const r of run.results()) opts.onResult?.(r);
    } catch (err) {
      // The StoredRun wrote the failure into the run; the monitor only needs the end state.
      if (!run.outcome) throw err;
    }
    const outcome = run.outcome;
    const state: RoundEndState =
      !outcome || outcome.detached ? 'interrupted' : (outcome.state as RoundEndState);
    return { state };
  };
}

async function* withLabels(
  targets: AsyncIterable<Target>,
  labels: Readonly<Record<string, string>>,
): AsyncGenerator<Target, void, undefined> {
  if (Object.keys(labels).length === 0) {
    yield* targets;
    return;
  }
  for await (const t of targets) yield { ...t, labels: { ...labels, ...t.labels } };
}
