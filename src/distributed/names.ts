import { UsageError } from '../core/errors.js';

/**
 * Every subject, stream and consumer name of one fleetprobe deployment, derived from one prefix
 * (default `fleetprobe`). Tests pass a unique prefix so that parallel suites never share a stream.
 *
 * Subjects: `<prefix>.shards.<runId>` (work queue), `<prefix>.results.<runId>` (results stream),
 * `<prefix>.cancel.<runId>` (plain core NATS), `<prefix>.workers.heartbeat` (plain core NATS),
 * `<prefix>.runs.<runId>` (coordinator cursor, one message per run), `<prefix>.rate.<runId>` (rate grants,
 * core NATS request/reply).
 * Streams: `<PREFIX>_SHARDS`, `<PREFIX>_RESULTS`, `<PREFIX>_RUNS`.
 */
export interface DistNames {
  readonly prefix: string;
  readonly shardsStream: string;
  readonly resultsStream: string;
  readonly runsStream: string;
  /** The durable pull consumer shared by every worker. */
  readonly workersConsumer: string;
  readonly heartbeatSubject: string;
  shardSubject(runId: string): string;
  resultSubject(runId: string): string;
  cancelSubject(runId: string): string;
  runStateSubject(runId: string): string;
  /** Workers ask the coordinator for start grants of a rate-limited run here (request/reply). */
  rateSubject(runId: string): string;
  /** Durable consumer of one run's results (the coordinator's). */
  resultsConsumer(runId: string): string;
  /** Wildcards. */
  readonly allShards: string;
  readonly allResults: string;
  readonly allCancels: string;
  readonly allRunStates: string;
}

/** No `-`: the stream names upper-case the prefix, and `a-b` and `a_b` would then share streams. */
const PREFIX_RE = /^[a-z][a-z0-9_]{0,31}$/;
const RUN_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** A run id that is safe as a subject token and a consumer name (no dots, wildcards or spaces). */
export function assertRunId(runId: string): string {
  if (!RUN_ID_RE.test(runId)) {
    throw new UsageError(
      `run id "${runId}" cannot be used in distributed mode: expected [A-Za-z0-9_-]{1,64}`,
    );
  }
  return runId;
}

/**
 * Checks a subject/stream prefix; `where` names its source in the error (e.g. `--nats-prefix`).
 * Throws `UsageError` (exit 2 at the CLI).
 */
export function assertPrefix(prefix: string, where = 'NATS prefix'): string {
  if (!PREFIX_RE.test(prefix)) {
    throw new UsageError(
      `${where} "${prefix.slice(0, 64)}": expected a lowercase letter, then up to 31 of a-z, 0-9 and _ ` +
        '(it names subjects <prefix>.* and streams <PREFIX>_SHARDS, _RESULTS, _RUNS)',
    );
  }
  return prefix;
}

export function distNames(prefix = 'fleetprobe'): DistNames {
  assertPrefix(prefix);
  const upper = prefix.toUpperCase();
  return Object.freeze({
    prefix,
    shardsStream: `${upper}_SHARDS`,
    resultsStream: `${upper}_RESULTS`,
    runsStream: `${upper}_RUNS`,
    workersConsumer: `${prefix}-workers`,
    heartbeatSubject: `${prefix}.workers.heartbeat`,
    shardSubject: (runId: string) => `${prefix}.shards.${assertRunId(runId)}`,
    resultSubject: (runId: string) => `${prefix}.results.${assertRunId(runId)}`,
    cancelSubject: (runId: string) => `${prefix}.cancel.${assertRunId(runId)}`,
    runStateSubject: (runId: string) => `${prefix}.runs.${assertRunId(runId)}`,
    rateSubject: (runId: string) => `${prefix}.rate.${assertRunId(runId)}`,
    resultsConsumer: (runId: string) => `${prefix}-results-${assertRunId(runId)}`,
    allShards: `${prefix}.shards.>`,
    allResults: `${prefix}.results.>`,
    allCancels: `${prefix}.cancel.*`,
    allRunStates: `${prefix}.runs.>`,
  });
}
