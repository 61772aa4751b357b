import type { Status } from '../engine/result.js';
import type { MonitorSpec, TargetState } from '../model/monitor-spec.js';
import type { RollupCounts } from '../model/rollup-counts.js';

/** A monitor defined through the API (or `fleetprobe monitors add`), as stored. Times are ISO-8601 UTC. */
export interface StoredMonitor {
  readonly spec: MonitorSpec;
  readonly paused: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Current state of one target of one monitor (committed rounds only). Times are ISO-8601 UTC. */
export interface MonitorTargetRecord {
  readonly monitor: string;
  readonly target: string;
  readonly port: number | null;
  readonly name: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: TargetState;
  /** Packed state machine (src/monitor/state-machine.ts `packMachine`): history, damped state, last outcome. */
  readonly machine: number;
  /** Consecutive results with the last outcome. */
  readonly streak: number;
  /** Since when the target is in `state`. */
  readonly since: string;
  readonly lastAt: string | null;
  readonly lastStatus: Status | null;
  /** Run id of the round that last counted for this target. */
  readonly lastRun: string | null;
}

/** A change of state, with the result that caused it. */
export interface TransitionRecord {
  /** Store-assigned, increasing: the keyset cursor of `listTransitions`. Ignored on insert. */
  readonly id?: string;
  readonly monitor: string;
  readonly target: string;
  readonly port: number | null;
  readonly at: string;
  readonly from: TargetState;
  readonly to: TargetState;
  readonly run: string;
  readonly status: Status;
  readonly message: string;
}

/** Counts and latency of one target over (part of) one hour, *added* to the stored hourly rollup. */
export interface RollupRecord extends RollupCounts {
  readonly monitor: string;
  readonly target: string;
  readonly port: number | null;
  /** Start of the hour, ISO-8601 UTC. */
  readonly hour: string;
}

/** One point of a target's latency series: one hour's rollup. */
export interface RollupPoint {
  readonly hour: string;
  readonly pass: number;
  readonly fail: number;
  readonly error: number;
  readonly timeout: number;
  readonly latMinMs: number | null;
  readonly latMeanMs: number | null;
  /** Estimated from the hour's histogram (interpolated inside the bucket, clamped to min/max). */
  readonly latP95Ms: number | null;
  readonly latMaxMs: number | null;
}

/** A round of a monitor: which run it was and how it ended. */
export interface RoundRecord {
  readonly monitor: string;
  /** 1, 2, 3... per monitor, across restarts. */
  readonly seq: number;
  readonly runId: string;
  /** `running` until it ends; then the run's final state (`done`, `cancelled`, `failed`, `interrupted`). */
  readonly state: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** Rounds skipped just before this one because the previous one was still running. */
  readonly skipped: number;
}

/** Share of passing results (0..1) over a window; null when the window holds no counted result. */
export interface Uptime {
  readonly h24: number | null;
  readonly d7: number | null;
  readonly d30: number | null;
}

export interface TargetHistory {
  /** Current state (one per port of that address in the monitor). */
  readonly states: MonitorTargetRecord[];
  /** Newest first. */
  readonly transitions: TransitionRecord[];
  readonly uptime: Uptime;
  /** Oldest first, one point per hour with results. */
  readonly latency: RollupPoint[];
}

/**
 * Monitors' state and history in the store (SQLite or PostgreSQL). Every method fails with `StoreError`
 * (`FP_STORE`) when the database does, and with `CursorError` (`FP_BAD_CURSOR`) for a malformed cursor.
 * Bulk writes take any number of rows and write them in multi-row statements (hundreds of rows each), never
 * one statement per row; they are not one transaction (a crash in the middle leaves some rows written: each row
 * is still a consistent state, at most one round behind).
 */
export interface MonitorStore {
  /** Inserts or replaces an API-defined monitor. */
  saveMonitor(spec: MonitorSpec): Promise<void>;
  /** API-defined monitors, by name. */
  listMonitors(): Promise<StoredMonitor[]>;
  getMonitor(name: string): Promise<StoredMonitor | undefined>;
  /** Returns false when there is no such monitor. The spec's `paused` follows. */
  setMonitorPaused(name: string, paused: boolean): Promise<boolean>;
  /** Deletes the definition only (see `deleteMonitorData`); false when absent. */
  deleteMonitor(name: string): Promise<boolean>;
  /** Deletes a monitor's states, transitions, rollups and round list (its runs stay, for run retention). */
  deleteMonitorData(monitor: string): Promise<void>;

  /** Every stored target state of a monitor, streamed in pages. */
  loadTargetStates(monitor: string): AsyncGenerator<MonitorTargetRecord, void, undefined>;
  /** Inserts or replaces target states. */
  upsertTargetStates(rows: readonly MonitorTargetRecord[]): Promise<void>;
  deleteTargetStates(
    monitor: string,
    keys: readonly { target: string; port: number | null }[],
  ): Promise<void>;
  insertTransitions(rows: readonly TransitionRecord[]): Promise<void>;
  /** Adds the deltas to the hourly rollups (counts and sums added, min/max kept). */
  addRollups(rows: readonly RollupRecord[]): Promise<void>;
  /** Inserts or updates a round (by monitor and seq). */
  saveRound(round: RoundRecord): Promise<void>;
  /** The round with the highest seq, if any. */
  lastRound(monitor: string): Promise<RoundRecord | undefined>;
  /**
   * Retention of raw results: deletes the results of every finished round but the newest `keepRounds`
   * (in chunks), and marks those rounds pruned. Returns the number of rounds pruned.
   */
  pruneRoundResults(monitor: string, keepRounds: number): Promise<number>;
  /** Deletes transitions (and pruned round rows) older than `transitionsBefore` and rollups of hours before `rollupsBefore`. */
  pruneHistory(q: {
    transitionsBefore: Date;
    rollupsBefore: Date;
  }): Promise<{ transitions: number; rollups: number }>;

  /**
   * Targets of a monitor with their current state, ordered by (target, port), keyset-paged.
   * `labels`: every given key must have exactly that value.
   */
  listTargets(
    monitor: string,
    q: { state?: TargetState; labels?: Readonly<Record<string, string>>; limit: number; cursor?: string },
  ): Promise<{ targets: MonitorTargetRecord[]; nextCursor: string | null }>;
  /** Transitions of a monitor at or after `since`, oldest first, keyset-paged. */
  listTransitions(
    monitor: string,
    q: { since?: Date; limit: number; cursor?: string },
  ): Promise<{ transitions: TransitionRecord[]; nextCursor: string | null }>;
  /**
   * One target's history in a monitor: current state, the last `transitionsLimit` transitions (default 100),
   * uptime over 24 h / 7 d / 30 d before `now` from the rollups, and the hourly latency series since
   * `seriesSince` (default: 24 h before `now`). `port` undefined = every port of that address.
   * The current hour counts only what the monitor runtime has flushed so far.
   */
  targetHistory(
    monitor: string,
    target: string,
    q?: { port?: number | null; now?: Date; seriesSince?: Date; transitionsLimit?: number },
  ): Promise<TargetHistory>;
}
