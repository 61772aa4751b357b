// The store's vocabulary: what a run, a diff and a failure group look like stored, and the `Store` interface.
// Apart from store.ts (which opens one) so that the implementations import it without importing their opener.
import type { Logger } from 'pino';
import type { Result, Status, StatusCounts } from '../engine/result.js';
import type { RunOptions } from '../engine/run-options.js';
import type { AlertStore } from './alert-store.js';
import type { MonitorStore } from './monitor-store.js';
import type { ResultFilter } from './result-filter.js';

export const RUN_STATES = ['queued', 'running', 'done', 'cancelled', 'failed', 'interrupted'] as const;
export type RunState = (typeof RUN_STATES)[number];

/**
 * A run as stored. JSON fields (`args`, `targets`) round-trip as given; `options` is read through
 * `readRunOptions` (old records with `rate` still read). Times are ISO-8601 UTC.
 */
export interface RunRecord {
  id: string;
  check: string;
  args: unknown;
  /** The request's target selection (JSON), e.g. `{specs: [...]}`; never the expanded list. */
  targets: unknown;
  options: RunOptions;
  state: RunState;
  total: number | null;
  counts: StatusCounts;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /** The monitor this run is a round of (its rounds form a series); null for a one-off run. */
  monitor: string | null;
  /** The lease id of the process executing the run (see `putLease`); null when none claimed it. */
  owner: string | null;
}

/** Which runs `listRuns` returns: every field narrows; `cursor` is the previous page's `nextCursor`. */
export type RunQuery = {
  check?: string;
  state?: string;
  idPrefix?: string;
  monitor?: string;
  limit: number;
  cursor?: string;
};

/** Which runs `markInterrupted` may take over. */
export interface MarkInterruptedOptions {
  /** Runs left alone whatever their owner (the runs this process resumes). */
  except?: readonly string[];
  /** The clock a lease's expiry is compared with, epoch ms (default `Date.now()`). */
  nowMs?: number;
}

export interface DiffChange {
  target: string;
  port: number | null;
  /** Status in run `a`; null when the target is only in `b`. */
  from: Status | null;
  /** Status in run `b`; null when the target is only in `a`. */
  to: Status | null;
  /** The message in run `a` / `b`; null where the status is. */
  fromMessage: string | null;
  toMessage: string | null;
}

/** Kinds of change between two runs: pass -> not pass, not pass -> pass, one non-pass status -> another, only in b, only in a. */
export const DIFF_KINDS = ['regressed', 'recovered', 'changed', 'added', 'removed'] as const;
export type DiffKind = (typeof DIFF_KINDS)[number];

/** Counts of a diff between runs `a` (before) and `b` (now), targets matched by (target, port). */
export interface DiffSummary {
  regressed: number;
  recovered: number;
  /** Both not pass, with different statuses. */
  changed: number;
  unchanged: number;
  added: number;
  removed: number;
  totalBefore: number;
  totalNow: number;
}

/** One failure group as the store counts it: results of a run with the same (status, reason). */
export interface StoredGroup {
  status: Status;
  reason: string;
  count: number;
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
  /** Alert history, the notification outbox and silences. */
  readonly alerts: AlertStore;
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
   * CLI resolves the 8-character ids the dashboard shows. `monitor` keeps the rounds of one monitor.
   */
  listRuns(q: RunQuery): Promise<{
    runs: RunRecord[];
    nextCursor: string | null;
  }>;
  /** In insertion order (keyset pages on the insertion id), narrowed by the filter. */
  listResults(
    runId: string,
    q: ResultFilter & { limit: number; cursor?: string | undefined },
  ): Promise<{ results: Result[]; nextCursor: string | null }>;
  /** How many results of a run match the filter. */
  countMatching(runId: string, filter: ResultFilter): Promise<number>;
  /**
   * Failure groups: the results of a run with the given statuses, grouped by (status, reason), largest first
   * (ties by status, reason), at most `limit`. `groupCount` is the number of groups in all.
   */
  resultGroups(
    runId: string,
    q: { statuses: readonly Status[]; limit: number },
  ): Promise<{ groups: StoredGroup[]; groupCount: number }>;
  /** The `target_key`s of one group's results, in address order (keyset pages; read from the index alone). */
  groupTargets(
    runId: string,
    status: Status,
    reason: string,
    q: { limit: number; cursor?: string | undefined },
  ): Promise<{ keys: string[]; nextCursor: string | null }>;
  /** The first `limit` results of one group in address order: target, name and message. */
  groupSample(
    runId: string,
    status: Status,
    reason: string,
    q: { limit: number },
  ): Promise<{ target: string; name: string | null; message: string }[]>;
  /**
   * The newest run before `id` of the same series: for a monitor's round, the previous round of that monitor
   * (whose results are not pruned); otherwise the same check, args and target selection.
   */
  previousRun(id: string): Promise<RunRecord | undefined>;
  /**
   * Targets whose status differs between runs `a` and `b` (or present in only one), ordered by address
   * (IPv4 numerically, then IPv6, then names) and port; `change` keeps one kind of change.
   */
  diffRuns(
    a: string,
    b: string,
    q: { limit: number; cursor?: string | undefined; change?: DiffKind | undefined },
  ): Promise<{ changes: DiffChange[]; nextCursor: string | null }>;
  /** Regressed, recovered, changed, unchanged, added and removed counts between runs `a` and `b`. */
  diffSummary(a: string, b: string): Promise<DiffSummary>;
  /** A value cached for a finished run under `key` (see `src/store/run-cache.ts`), or undefined. */
  getRunCache(runId: string, key: string): Promise<{ fingerprint: string; body: string } | undefined>;
  /** Stores (or replaces) a value cached for a run; it is deleted with the run's results. */
  putRunCache(runId: string, key: string, fingerprint: string, body: string): Promise<void>;
  /** Per-status counts of the results stored for a run. */
  countResults(runId: string): Promise<StatusCounts>;
  /**
   * Every `running`/`queued` run whose owner is gone (no owner, no lease, or a lease expired before
   * `nowMs`) becomes `interrupted`, with its counters recomputed from its stored results; runs in `except`
   * and runs of a live owner are left alone. Expired leases are then deleted. Returns how many runs.
   */
  markInterrupted(opts?: MarkInterruptedOptions): Promise<number>;
  /** Creates or renews the lease of owner `owner` (a process executing runs) until `expiresAtMs` (epoch ms). */
  putLease(owner: string, expiresAtMs: number): Promise<void>;
  /** Ends a lease (its owner stopped cleanly). */
  dropLease(owner: string): Promise<void>;
  /** Deletes finished runs created before `cutoff` (their results first, in chunks). Returns the number of runs deleted. */
  deleteRunsOlderThan(cutoff: Date): Promise<number>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  log?: Logger;
}
