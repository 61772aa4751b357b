/**
 * Distributed mode over NATS JetStream: the coordinator (an `Executor` for the server's RunManager) and the
 * worker loop. The engine is the same as in a local run; only where shards run changes.
 *
 * Subjects (prefix `fleetprobe`; `--nats-prefix` on server and worker): `fleetprobe.shards.<runId>`
 * (work-queue stream `FLEETPROBE_SHARDS`), `fleetprobe.results.<runId>` (stream `FLEETPROBE_RESULTS`, one
 * durable consumer per run), `fleetprobe.cancel.<runId>`, `fleetprobe.rate.<runId>` and
 * `fleetprobe.workers.heartbeat` (plain core NATS), and `fleetprobe.runs.<runId>` (stream `FLEETPROBE_RUNS`,
 * the coordinator's resume cursor, one message per run). Every stream and consumer has explicit limits
 * (`DistLimits`: bytes, age, message size, ack wait, max ack pending, max deliveries); full streams refuse
 * publishes (discard new) rather than drop data.
 *
 * Delivery: a worker acks a shard only after all its result batches are acknowledged by JetStream; it renews
 * its lease every ack_wait/3, so a worker that dies has its shard redelivered within ack_wait (5 s); a
 * shard on its last allowed delivery is dead-lettered (its targets get `error` results). The coordinator
 * yields every result it receives (the store keeps one row per run, target and port) and records a shard
 * done only after its results were stored; a resumed coordinator re-creates the run's results consumer, so
 * what its predecessor left unacked comes again at once.
 *
 * Rate: a run's `ratePerSec` is global; workers start checks on grants from the coordinator (`rate.ts`).
 *
 * Limitations: user check modules must be installed on each worker (`fleetprobe worker --check-module`);
 * with no live worker a run waits (visible in GET /api/v1/workers); a shard nobody takes within the stream's
 * max age (24 h) is lost and the run stalls.
 */
export {
  CoordinatorDetachedError,
  createJetStreamExecutor,
  type ExecuteSpec,
  type JetStreamExecutor,
  type JetStreamExecutorOptions,
} from './coordinator.js';
export { DistError, DistMessageError } from './errors.js';
export type { Heartbeat, ResultBatch, ShardMessage } from './messages.js';
export { assertPrefix, assertRunId, type DistNames, distNames } from './names.js';
export {
  connectNats,
  DEFAULT_LIMITS,
  type DistLimits,
  deleteStreams,
  ensureStreams,
  resolveLimits,
} from './nats.js';
export { type RunCursor, RunCursorStore } from './run-cursor.js';
export { startWorker, type Worker, type WorkerOptions, type WorkerStats } from './worker.js';
export {
  type WorkerInfo,
  WorkersRegistry,
  type WorkersRegistryOptions,
  workerMetrics,
} from './workers-registry.js';
export { workersRoutes } from './workers-routes.js';
