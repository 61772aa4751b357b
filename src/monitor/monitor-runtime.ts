import type { Logger } from 'pino';
import type { Result } from '../engine/result.js';
import type { MonitorSpec, TargetState } from '../model/monitor-spec.js';
import type { MonitorStore, MonitorTargetRecord, TransitionRecord } from '../store/monitor-store.js';
import { paceTargets } from './pace.js';
import { RollupAggregator } from './rollup-aggregator.js';
import type { RoundEndState, RunRoundPort } from './round-port.js';
import { RoundScheduler, type RoundTick } from './round-scheduler.js';
import { policyOf, type StatePolicy } from './state-machine.js';
import { type TargetSnapshot, TargetTable, type TargetTransition } from './target-table.js';
import type { Inventory } from './types.js';

/** Share of the interval over which a round's target starts are spread (minus the per-target timeout). */
const SPREAD_SHARE = 0.9;
/** State rows written per store call at commit. */
const WRITE_CHUNK = 5000;

/** What the runtime needs from its owner (the MonitorManager). */
export interface MonitorRuntimeDeps {
  readonly store: MonitorStore;
  readonly runRound: RunRoundPort;
  readonly inventoryOf: (spec: MonitorSpec) => Inventory;
  readonly newRunId: () => string;
  readonly now: () => number;
  readonly keepRounds: number;
  readonly onTransitions: ((monitor: string, transitions: readonly TransitionRecord[]) => void) | undefined;
  readonly onRoundCommitted: OnRoundCommitted | undefined;
  readonly log: Logger | undefined;
}

/** What a target's result in a committed round leaves for its owner's hook (alerts). */
export interface RoundResult {
  readonly status: Result['status'];
  readonly durationMs: number;
  /** The result's message; '' for a pass (kept only where something failed). */
  readonly message: string;
  /** `{cert}` when the check observed a certificate (the http check), else empty: the rest is not kept. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** A committed round as its hook sees it: every target's committed state and this round's result (if any). */
export interface CommittedRound {
  readonly seq: number;
  readonly runId: string;
  /** When the round was committed, ms since the epoch. */
  readonly atMs: number;
  /** The committed states, in slot order; read them before the hook's promise settles. */
  readonly targets: () => Iterable<TargetSnapshot>;
  /** This round's result of a target, or undefined when it had none. */
  readonly resultOf: (target: string, port: number | null) => RoundResult | undefined;
}

/**
 * Called after each committed round, after its states and transitions are stored (alerts). Awaited before the
 * round ends, so the next round never overlaps it; a rejection is logged and does not fail the round.
 */
export type OnRoundCommitted = (monitor: MonitorSpec, round: CommittedRound) => Promise<void>;

const NO_DATA: Readonly<Record<string, unknown>> = Object.freeze({});

/** The part of a result a round hook keeps (small: 250,000 of them live for a round). */
function roundResultOf(r: Result): RoundResult {
  const cert = r.data?.cert;
  return {
    status: r.status,
    durationMs: r.durationMs,
    message: r.status === 'pass' ? '' : r.message,
    data: cert === undefined ? NO_DATA : { cert },
  };
}

/** A monitor's live status, for the API. */
export interface MonitorStatus {
  readonly name: string;
  readonly paused: boolean;
  readonly running: boolean;
  /** Rounds started / skipped since this process started. */
  readonly rounds: number;
  readonly skipped: number;
  /** Last round: seq, run id, end state (`running` while it runs), start and end times, lateness. */
  readonly lastRound: LastRound | null;
  readonly nextDueAt: string | null;
  readonly targets: number;
  readonly states: Readonly<Record<TargetState, number>>;
}

/** The last round of a monitor, as its status shows it. Times are ISO-8601 UTC. */
export interface LastRound {
  readonly seq: number;
  readonly runId: string;
  readonly state: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** How long after its due time the round started, in ms; null for a round of a previous process. */
  readonly latenessMs: number | null;
}

/** Over how long a monitor's target starts are spread, in ms. */
export function spreadMsOf(spec: MonitorSpec): number {
  return Math.max(0, Math.floor(spec.intervalMs * SPREAD_SHARE - (spec.timeoutMs ?? 0)));
}

/** A target's state as the store keeps it. */
export const targetRecordOf = (monitor: string, s: TargetSnapshot): MonitorTargetRecord => ({
  monitor,
  target: s.target,
  port: s.port,
  name: s.name,
  labels: s.labels,
  state: s.state,
  machine: s.machine,
  streak: s.streak,
  since: new Date(s.sinceMs).toISOString(),
  lastAt: s.lastAtMs === null ? null : new Date(s.lastAtMs).toISOString(),
  lastStatus: s.lastStatus,
  lastRun: s.lastRun,
});

const toTransitionRecord = (monitor: string, t: TargetTransition): TransitionRecord => ({
  monitor,
  target: t.target,
  port: t.port,
  at: new Date(t.atMs).toISOString(),
  from: t.from,
  to: t.to,
  run: t.run,
  status: t.status,
  message: t.message,
});

/**
 * One monitor at run time: its schedule, its per-target states and its rollups. A round's results are buffered
 * in the target table while it runs and committed only when the round's run ends `done`; a round that ends
 * `cancelled`, `interrupted` or `failed` is discarded whole, so it never causes a transition (its results stay
 * stored as a run, and do not feed the rollups either).
 */
export class MonitorRuntime {
  readonly #deps: MonitorRuntimeDeps;
  readonly #table = new TargetTable();
  readonly #rollups = new RollupAggregator();
  #spec: MonitorSpec;
  #policy: StatePolicy;
  #scheduler: RoundScheduler | undefined;
  #seq = 0;
  #lastRound: LastRound | null = null;
  #skippedSinceLast = 0;

  constructor(spec: MonitorSpec, deps: MonitorRuntimeDeps) {
    this.#spec = spec;
    this.#policy = policyOf(spec);
    this.#deps = deps;
  }

  get spec(): MonitorSpec {
    return this.#spec;
  }

  /** Loads the stored states and round counter, then starts the schedule (paused if the spec says so). */
  async start(): Promise<void> {
    const name = this.#spec.name;
    for await (const row of this.#deps.store.loadTargetStates(name)) {
      this.#table.load({
        target: row.target,
        port: row.port,
        name: row.name,
        labels: row.labels,
        state: row.state,
        machine: row.machine,
        streak: row.streak,
        sinceMs: Date.parse(row.since),
        lastAtMs: row.lastAt === null ? null : Date.parse(row.lastAt),
        lastStatus: row.lastStatus,
        lastRun: row.lastRun,
      });
    }
    const last = await this.#deps.store.lastRound(name);
    let firstDueAtMs = this.#deps.now();
    if (last) {
      this.#seq = last.seq;
      let { state, finishedAt } = last;
      // A round left `running` by a process that died: it never counts.
      if (last.state === 'running') {
        state = 'interrupted';
        finishedAt = new Date(this.#deps.now()).toISOString();
        await this.#deps.store.saveRound({ ...last, state, finishedAt });
      }
      this.#lastRound = {
        seq: last.seq,
        runId: last.runId,
        state,
        startedAt: last.startedAt,
        finishedAt,
        latenessMs: null,
      };
      firstDueAtMs = Math.max(firstDueAtMs, Date.parse(last.startedAt) + this.#spec.intervalMs);
    }
    this.#scheduler = new RoundScheduler({
      intervalMs: this.#spec.intervalMs,
      firstDueAtMs,
      paused: this.#spec.paused,
      now: this.#deps.now,
      runRound: (tick, signal) => this.#round(tick, signal),
      onSkip: (dueAtMs) => {
        this.#skippedSinceLast++;
        this.#deps.log?.warn(
          { monitor: name, dueAt: new Date(dueAtMs).toISOString() },
          'round skipped: the previous one is still running',
        );
      },
      onError: (err) => this.#deps.log?.error({ err, monitor: name }, 'monitor round failed'),
    });
  }

  /**
   * Applies a changed spec (reload): interval and pause from now on, policy from the next commit, check,
   * arguments and inventory from the next round. Target states are kept.
   */
  update(spec: MonitorSpec): void {
    this.#spec = spec;
    this.#policy = policyOf(spec);
    this.#scheduler?.setIntervalMs(spec.intervalMs);
    if (spec.paused) this.#scheduler?.pause();
    else this.#scheduler?.resume();
  }

  pause(): void {
    this.#spec = { ...this.#spec, paused: true };
    this.#scheduler?.pause();
  }

  resume(): void {
    this.#spec = { ...this.#spec, paused: false };
    this.#scheduler?.resume();
  }

  /** Stops the schedule, cancels a running round (discarded: no transition) and flushes the rollups. */
  async stop(reason?: unknown): Promise<void> {
    await this.#scheduler?.stop(reason);
    await this.flushRollups();
  }

  status(): MonitorStatus {
    const s = this.#scheduler;
    const due = s?.nextDueAtMs;
    return {
      name: this.#spec.name,
      paused: s?.paused ?? this.#spec.paused,
      running: s?.running ?? false,
      rounds: s?.rounds ?? 0,
      skipped: s?.skipped ?? 0,
      lastRound: this.#lastRound && { ...this.#lastRound },
      nextDueAt: due === undefined ? null : new Date(due).toISOString(),
      targets: this.#table.size,
      states: this.#table.countByState(),
    };
  }

  /** Committed states (tests and summaries). */
  snapshots(): Iterable<TargetSnapshot> {
    return this.#table.snapshots();
  }

  /** Writes the rollup deltas gathered since the last flush. A failed write is logged and those deltas are lost. */
  async flushRollups(): Promise<void> {
    if (this.#rollups.empty) return;
    const monitor = this.#spec.name;
    const rows = [];
    for (const d of this.#rollups.drain()) {
      const s = this.#table.snapshot(d.slot);
      rows.push({
        monitor,
        target: s.target,
        port: s.port,
        hour: new Date(d.hourMs).toISOString(),
        pass: d.pass,
        fail: d.fail,
        error: d.error,
        timeout: d.timeout,
        latN: d.latN,
        latMinMs: d.latMinMs,
        latSumMs: d.latSumMs,
        latMaxMs: d.latMaxMs,
        buckets: d.buckets,
      });
    }
    try {
      await this.#deps.store.addRollups(rows);
    } catch (err) {
      this.#deps.log?.error(
        { err, monitor, rows: rows.length },
        'writing rollups failed; these deltas are lost',
      );
    }
  }

  async #round(tick: RoundTick, signal: AbortSignal): Promise<void> {
    const { store, log } = this.#deps;
    const spec = this.#spec;
    const seq = ++this.#seq;
    const runId = this.#deps.newRunId();
    const startedAtMs = this.#deps.now();
    const round = {
      monitor: spec.name,
      seq,
      runId,
      state: 'running',
      startedAt: new Date(startedAtMs).toISOString(),
      finishedAt: null,
      skipped: this.#skippedSinceLast,
    };
    this.#skippedSinceLast = 0;
    const latenessMs = Math.max(0, startedAtMs - tick.dueAtMs);
    this.#lastRound = {
      seq,
      runId,
      state: 'running',
      startedAt: round.startedAt,
      finishedAt: null,
      latenessMs,
    };
    await store.saveRound(round);

    let state: RoundEndState;
    // Results kept for the round hook only (first per target and port, as the table counts them).
    const roundResults = this.#deps.onRoundCommitted ? new Map<string, RoundResult>() : undefined;
    try {
      const inventory = this.#deps.inventoryOf(spec);
      const expectedCount = this.#table.size > 0 ? this.#table.size : await countTargets(inventory, signal);
      const spreadMs = spreadMsOf(spec);
      const targets = paceTargets(inventory.targets(signal), {
        expectedCount,
        spreadMs,
        startedAtMs,
        signal,
        now: this.#deps.now,
      });
      const policy = this.#policy;
      const keep = roundResults !== undefined;
      ({ state } = await this.#deps.runRound(
        { monitor: spec, runId, seq, targets, spreadMs, expectedCount, signal },
        (results) => {
          for (const r of results) {
            if (r.run !== runId) continue;
            this.#table.observe(r, policy);
            const key = `${r.target}|${r.port ?? 0}`;
            if (keep && r.status !== 'cancelled' && !roundResults.has(key))
              roundResults.set(key, roundResultOf(r));
          }
        },
      ));
    } catch (err) {
      log?.error({ err, monitor: spec.name, run: runId }, 'round failed');
      state = 'failed';
    }

    if (state === 'done') {
      await this.#commit();
      await this.#afterCommit(spec, seq, runId, roundResults);
    } else this.#table.discard();
    const finishedAt = new Date(this.#deps.now()).toISOString();
    this.#lastRound = { seq, runId, state, startedAt: round.startedAt, finishedAt, latenessMs };
    await store.saveRound({ ...round, state, finishedAt });
    await store.pruneRoundResults(spec.name, this.#deps.keepRounds);
    log?.debug({ monitor: spec.name, seq, run: runId, state, dueAt: tick.dueAtMs }, 'round ended');
  }

  async #afterCommit(
    spec: MonitorSpec,
    seq: number,
    runId: string,
    results: Map<string, RoundResult> | undefined,
  ): Promise<void> {
    const hook = this.#deps.onRoundCommitted;
    if (!hook || !results) return;
    try {
      await hook(spec, {
        seq,
        runId,
        atMs: this.#deps.now(),
        targets: () => this.#table.snapshots(),
        resultOf: (target, port) => results.get(`${target}|${port ?? 0}`),
      });
    } catch (err) {
      this.#deps.log?.error({ err, monitor: spec.name, run: runId }, 'round hook failed');
    }
  }

  async #commit(): Promise<void> {
    const monitor = this.#spec.name;
    const { transitions, updated, removed } = this.#table.commit(
      this.#policy,
      (slot, status, atMs, durationMs) => this.#rollups.add(slot, status, atMs, durationMs),
    );
    for (const r of removed) this.#rollups.forget(r.slot);
    const { store } = this.#deps;
    for (let i = 0; i < updated.length; i += WRITE_CHUNK) {
      await store.upsertTargetStates(
        updated.slice(i, i + WRITE_CHUNK).map((slot) => targetRecordOf(monitor, this.#table.snapshot(slot))),
      );
    }
    if (removed.length > 0) await store.deleteTargetStates(monitor, removed);
    if (transitions.length > 0) {
      const records = transitions.map((t) => toTransitionRecord(monitor, t));
      await store.insertTransitions(records);
      this.#deps.onTransitions?.(monitor, records);
    }
  }
}

/** Counts an inventory's targets (first round only: later rounds use the previous round's count). */
async function countTargets(inventory: Inventory, signal: AbortSignal): Promise<number> {
  let n = 0;
  for await (const _ of inventory.targets(signal)) n++;
  return n;
}
