import type { Logger } from 'pino';
import type { Result, Status, StatusCounts } from '../engine/result.js';
import { openKyselyStore } from './kysely-store.js';
import type { MonitorStore } from './monitor-store.js';

export const RUN_STATES = ['queued', 'running', 'done', 'cancelled', 'failed', 'interrupted'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** A run as stored. JSON fields (`args`, `targets`, `options`) round-trip as given. Times are ISO-8601 UTC. */
export interface RunRecord {
  id: string;
  check: string;
  args: unknown;
  /** The request's target selection (JSON), e.g. `{specs: [...]}`; never the expanded list. */
  targets: unknown;
  options: unknown;
  state: RunState;
  total: number | null;
  counts: StatusCounts;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

export interface DiffChange {
  target: string;
  port: number | null;
  /** Status in run `a`; null when the target is only in `b`. */
  from: Status | null;
  /** Status in run `b`; null when the target is only in `a`. */
  to: Status | null;
}

/**
 * Runs and their results, in SQLite or PostgreSQL. Every method fails with `StoreError` (code `FP_STORE`)
 * when the database does; a bad cursor fails with `CursorError` (`FP_BAD_CURSOR`). Cursors are opaque strings
 * (keyset pagination: a page costs the same at the start and the end of 250,000 results).
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Monitors' definitions, per-target state, transitions, rollups and round retention. */
  readonly monitors: MonitorStore;
  createRun(run: RunRecord): Promise<void>;
  /** Updates the given fields; a missing run is a no-op. */
  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<void>;
  /**
   * Idempotent: one row per (run, target, port); returns per-status counts of rows NEWLY inserted
   * (duplicates from redelivery are ignored and not counted). One transaction per call.
   */
  insertResults(results: readonly Result[]): Promise<StatusCounts>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /**
   * Newest first. `idPrefix` keeps runs whose id starts with it (SQLite ignores ASCII case there): how the
   * CLI resolves the 8-character ids the dashboard shows.
   */
  listRuns(q: {
    check?: string;
    state?: string;
    idPrefix?: string;
    limit: number;
    cursor?: string;
  }): Promise<{
    runs: RunRecord[];
    nextCursor: string | null;
  }>;
  /** In insertion order; `target` matches exactly. */
  listResults(
    runId: string,
    q: { status?: Status; target?: string; limit: number; cursor?: string },
  ): Promise<{ results: Result[]; nextCursor: string | null }>;
  /** Targets whose status differs between runs `a` and `b` (or present in only one), ordered by target, port. */
  diffRuns(
    a: string,
    b: string,
    q: { limit: number; cursor?: string },
  ): Promise<{ changes: DiffChange[]; nextCursor: string | null }>;
  /** Per-status counts of the results stored for a run. */
  countResults(runId: string): Promise<StatusCounts>;
  /**
   * At start: every `running`/`queued` run (left over by a process that died) becomes `interrupted`, except
   * `except` (runs this process resumes). Returns how many.
   */
  markInterrupted(except?: readonly string[]): Promise<number>;
  /** Deletes finished runs created before `cutoff` (their results first, in chunks). Returns the number of runs deleted. */
  deleteRunsOlderThan(cutoff: Date): Promise<number>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  log?: Logger;
}

/**
 * Opens (creating if needed) a store and applies pending migrations.
 * `url`: `postgres://...` / `postgresql://...` (PostgreSQL; `?options=-c search_path=x` selects a schema),
 * `:memory:` (SQLite, private to this process), or a file path (SQLite, WAL; `sqlite:` / `file:` prefixes allowed).
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  return openKyselyStore(url, opts);
}
