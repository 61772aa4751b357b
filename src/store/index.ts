export type { StoreDialect } from './dialect.js';
export { CursorError, StoreError, StoreOpenError, StoreUrlError } from './errors.js';
export type {
  MonitorStore,
  MonitorTargetRecord,
  RollupPoint,
  RollupRecord,
  RoundRecord,
  StoredMonitor,
  TargetHistory,
  TransitionRecord,
  Uptime,
} from './monitor-store.js';
export { type RetentionHandle, startRetention } from './retention.js';
export {
  type DiffChange,
  type OpenStoreOptions,
  openStore,
  RUN_STATES,
  type RunRecord,
  type RunState,
  type Store,
} from './store.js';
