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
  data: string;
}

export interface Database {
  runs: RunsTable;
  results: ResultsTable;
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
  data: string;
}
