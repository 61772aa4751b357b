export {
  CoordinatorDetachedError,
  createJetStreamExecutor,
  type ExecuteSpec,
  type JetStreamExecutor,
  type JetStreamExecutorOptions,
} from './coordinator.js';
export { DistError, DistMessageError } from './errors.js';
export type { Heartbeat, ResultBatch, ShardMessage } from './messages.js';
export { assertRunId, type DistNames, distNames } from './names.js';
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
