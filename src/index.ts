/** The public API of the `fleetprobe` package: what user check modules and embedding programs import. */
export {
  ARG_ROLES,
  type ArgRole,
  abortHookOf,
  type Check,
  type CheckContext,
  type CredentialKind,
  defineCheck,
  type Observation,
} from './checks/check.js';
export { compilePattern, Pattern, patternArg } from './checks/pattern.js';
export { CheckRegistry } from './checks/registry.js';
export type { AbortHook, AbortListener } from './core/abort-hook.js';
export { Channel } from './core/channel.js';
export { createDeadline, type Deadline } from './core/deadline.js';
export * from './core/errors.js';
export { batch, mapConcurrent, merge } from './core/iter.js';
export { Scheduler, type SchedulerOptions } from './core/scheduler.js';
export { type Result, STATUSES, type Status } from './engine/result.js';
export { startRun } from './engine/run.js';
export type { RunExecution, RunProgress, RunSpec } from './engine/types.js';
export type { Target } from './targets/target.js';
