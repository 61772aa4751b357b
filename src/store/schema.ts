import type { Generated } from 'kysely';

/** Row shapes as the database sees them (kysely's table interfaces). Timestamps: ISO text (SQLite) or timestamptz (PostgreSQL). */
export interface RunsTable {
  /** Insertion order; the keyset cursor of `listRuns`. */
  seq: Generated<number | string>;
  id: string;
  check: string;
  args: string;
  targets: string;
  options: string;
  state: string;
  total: number | null;
  n_pass: number;
  n_fail: number;
  n_error: number;
  n_timeout: number;
  n_cancelled: number;
  created_at: string | Date;
  started_at: string | Date | null;
  finished_at: string | Date | null;
  error: string | null;
  /** Added by 0002_run_leases. */
  monitor: string | null;
  /** Added by 0002_run_leases: the lease id of the executing process. */
  owner: string | null;
}

/** 0002_run_leases: one row per process executing runs; it is alive while `expires_ms` is in the future. */
export interface RunOwnersTable {
  owner: string;
  /** Epoch ms (bigint in PostgreSQL: read back as a string). */
  expires_ms: number | string;
}

/**
 * Values derived from a finished run's results (its failure groups, a filter's match count), computed once:
 * `fingerprint` names the state of the run they were computed from (see `src/store/run-cache.ts`).
 */
export interface RunCacheTable {
  run_id: string;
  key: string;
  fingerprint: string;
  body: string;
}

export interface ResultsTable {
  /** Insertion order; the keyset cursor of `listResults`. */
  id: Generated<number | string>;
  run_id: string;
  target: string;
  /** 0 when the result has no port, so the unique key (run_id, target, port) works. */
  port: number;
  name: string | null;
  labels: string;
  status: string;
  duration_ms: number;
  started_at: string | Date;
  attempts: number;
  message: string;
  /** The stable reason (failure group key); see `reasonOf`. */
  reason: string;
  /** `targetKey(target)`: sorts addresses numerically, makes CIDR filters range scans. */
  target_key: string;
  data: string;
}

/** The tables of migration 0003_monitors. */
export interface MonitorTables {
  monitors: MonitorsTable;
  monitor_targets: MonitorTargetsTable;
  monitor_transitions: MonitorTransitionsTable;
  monitor_rollups: MonitorRollupsTable;
  monitor_rounds: MonitorRoundsTable;
}

/** API-defined monitors (config-file monitors live in the file). */
export interface MonitorsTable {
  name: string;
  /** The MonitorSpec as JSON. */
  spec: string;
  /** 0 or 1. */
  paused: number;
  created_at: string | Date;
  updated_at: string | Date;
}

/** Current state per monitor and target: committed rounds only. */
export interface MonitorTargetsTable {
  monitor: string;
  target: string;
  /** 0 when the target has no port. */
  port: number;
  name: string | null;
  /** JSON object. */
  labels: string;
  state: string;
  /** The packed state machine word (src/monitor/state-machine.ts `packMachine`). */
  machine: number | string;
  streak: number;
  since: string | Date;
  last_at: string | Date | null;
  last_status: string | null;
  last_run: string | null;
}

export interface MonitorTransitionsTable {
  id: Generated<number | string>;
  monitor: string;
  target: string;
  port: number;
  at: string | Date;
  from_state: string;
  to_state: string;
  run_id: string;
  status: string;
  message: string;
}

/** Hourly rollups per monitor and target; `b0`..`b13` are latency histogram buckets (LATENCY_BOUNDS_MS). */
export interface MonitorRollupsTable {
  monitor: string;
  target: string;
  port: number;
  hour: string | Date;
  n_pass: number;
  n_fail: number;
  n_error: number;
  n_timeout: number;
  lat_n: number;
  lat_min: number | null;
  lat_sum: number;
  lat_max: number | null;
  b0: number;
  b1: number;
  b2: number;
  b3: number;
  b4: number;
  b5: number;
  b6: number;
  b7: number;
  b8: number;
  b9: number;
  b10: number;
  b11: number;
  b12: number;
  b13: number;
}

/** The rounds of each monitor, in order: which run each was, and how it ended. */
export interface MonitorRoundsTable {
  monitor: string;
  seq: number;
  run_id: string;
  state: string;
  started_at: string | Date;
  finished_at: string | Date | null;
  /** Rounds skipped just before this one (the previous round was still running). */
  skipped: number;
  /** 1 once this round's results were deleted by retention. */
  pruned: number;
}

/** One alert instance (fingerprint + starts_at); `labels`/`annotations` are JSON objects. */
export interface AlertsTable {
  id: Generated<number | string>;
  fingerprint: string;
  monitor: string;
  rule: string;
  kind: string;
  labels: string;
  annotations: string;
  state: string;
  starts_at: string | Date;
  ends_at: string | Date | null;
  /** The id of the silence that matched when last recorded; null when not silenced. */
  silenced_by: string | null;
  inhibited_by: string | null;
  updated_at: string | Date;
}

/** One notification to deliver to one notifier; `payload` is the Notification as JSON. */
export interface AlertOutboxTable {
  id: Generated<number | string>;
  notifier: string;
  fingerprint: string;
  starts_at: string | Date;
  alert_state: string;
  /** notifier|fingerprint|startsAt|state|repeat: enqueueing twice is a no-op. */
  dedup_key: string;
  payload: string;
  attempts: number;
  next_attempt_at: string | Date;
  lease_owner: string | null;
  lease_until: string | Date | null;
  done_at: string | Date | null;
  /** `delivered`, `superseded` (a newer notification of the alert replaced it) or `gave_up`. */
  outcome: string | null;
  last_error: string | null;
  created_at: string | Date;
}

export interface SilencesTable {
  id: string;
  monitor: string | null;
  /** JSON array of matcher texts. */
  matchers: string;
  /** JSON array of addresses, names, CIDR blocks. */
  targets: string;
  starts_at: string | Date;
  ends_at: string | Date;
  comment: string;
  created_by: string;
  created_at: string | Date;
}

export interface Database extends MonitorTables {
  runs: RunsTable;
  results: ResultsTable;
  run_owners: RunOwnersTable;
  run_cache: RunCacheTable;
  alerts: AlertsTable;
  alert_outbox: AlertOutboxTable;
  silences: SilencesTable;
}

/** One result as written: the dialect's bulk insert takes these. */
export interface ResultRow {
  run_id: string;
  target: string;
  port: number;
  name: string | null;
  labels: string;
  status: string;
  duration_ms: number;
  started_at: string;
  attempts: number;
  message: string;
  reason: string;
  target_key: string;
  data: string;
}
