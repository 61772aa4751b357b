export type {
  AlertRecord,
  AlertStore,
  OutboxEntry,
  OutboxInsert,
  OutboxOutcome,
  OutboxRow,
} from './alert-store.js';
export type { StoreDialect } from './dialect.js';
export { BadFilterError, CursorError, StoreError, StoreOpenError, StoreUrlError } from './errors.js';
export { loadFailureGroups } from './failure-groups.js';
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
export { escapeLike, ipv4Cidr, type ResultFilter } from './result-filter.js';
export { type RetentionHandle, startRetention } from './retention.js';
// openStore and the store's types (store.ts re-exports them for its ~15 direct importers).
export * from './store.js';
export { targetKey } from './target-key.js';
