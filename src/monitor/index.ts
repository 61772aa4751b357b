export { MonitorManager, type MonitorManagerOptions } from './monitor-manager.js';
export {
  type CommittedRound,
  type LastRound,
  type MonitorStatus,
  type OnRoundCommitted,
  type RoundResult,
  spreadMsOf,
} from './monitor-runtime.js';
export { paceTargets, startOffsetMs } from './pace.js';
export { ROUND_END_STATES, type RoundEndState, type RoundRequest, type RunRoundPort } from './round-port.js';
export { RoundScheduler, type RoundSchedulerOptions, type RoundTick } from './round-scheduler.js';
export {
  DEFAULT_FLAP_HIGH_PCT,
  DEFAULT_FLAP_LOW_PCT,
  flapPercent,
  HISTORY_ROUNDS,
  type MachineState,
  policyOf,
  type StatePolicy,
  shownState,
  stepMachine,
} from './state-machine.js';
export { type StoredRoundOptions, storedRoundPort } from './stored-round.js';
export * from './types.js';
