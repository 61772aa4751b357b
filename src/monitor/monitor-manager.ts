import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { MonitorSpec } from '../model/monitor-spec.js';
import type { MonitorStore, TransitionRecord } from '../store/monitor-store.js';
import { MonitorRuntime, type MonitorStatus, type OnRoundCommitted } from './monitor-runtime.js';
import type { RunRoundPort } from './round-port.js';
import type { Inventory } from './types.js';

const DAY_MS = 86_400_000;

export interface MonitorManagerOptions {
  readonly store: MonitorStore;
  /** Runs one round as a stored run (the shared run lifecycle). */
  readonly runRound: RunRoundPort;
  /** The inventory a spec names (config `inventories:`) or holds inline. Called once per round. */
  readonly inventoryOf: (spec: MonitorSpec) => Inventory;
  /** Raw results are kept for this many most recent rounds of each monitor (default 10). */
  readonly keepRounds?: number;
  /** Transitions are kept this long, in ms (default 90 days). */
  readonly transitionsKeepMs?: number;
  /** Hourly rollups are kept this long, in ms (default 31 days: enough for 30-day uptime). */
  readonly rollupsKeepMs?: number;
  /** Rollup deltas are written every this many ms (default 300,000) and at stop. A crash loses at most this much rollup data. */
  readonly rollupFlushMs?: number;
  /** History retention (transitions, rollups) runs every this many ms (default 3,600,000). */
  readonly pruneEveryMs?: number;
  /** Called with each committed round's transitions, after they are stored (alerts, SSE). Must not throw. */
  readonly onTransitions?: (monitor: string, transitions: readonly TransitionRecord[]) => void;
  /** Called after each committed round with the committed states and the round's results (alerts). */
  readonly onRoundCommitted?: OnRoundCommitted;
  readonly log?: Logger;
  /** Clock (default `Date.now`); timers are the global ones, so fake timers drive the manager in tests. */
  readonly now?: () => number;
  /** Run ids of rounds (default `randomUUID`). */
  readonly newRunId?: () => string;
}

/**
 * Owns the monitors of a process: one `MonitorRuntime` each (schedule, per-target states, rollups), created
 * with the states stored by a previous process, so a restart resumes every monitor where it was. Rounds run
 * through the injected `runRound` port. `reload()` swaps the set of monitors: unchanged ones are untouched,
 * changed ones keep their states, removed ones are stopped (their stored history stays until
 * `MonitorStore.deleteMonitorData`). Also runs history retention and rollup flushes on its own timers
 * (unref'd). Call `stop()` on shutdown: running rounds are cancelled (and never count), rollups are flushed.
 */
export class MonitorManager {
  readonly #opts: MonitorManagerOptions;
  readonly #runtimes = new Map<string, MonitorRuntime>();
  readonly #now: () => number;
  #flushTimer: ReturnType<typeof setInterval> | undefined;
  #pruneTimer: ReturnType<typeof setInterval> | undefined;
  #background: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Serialises reload/stop so two reloads never interleave. */
  #queue: Promise<void> = Promise.resolve();

  constructor(opts: MonitorManagerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Starts the given monitors and the background timers. */
  start(specs: readonly MonitorSpec[]): Promise<void> {
    this.#flushTimer = setInterval(
      () => this.#inBackground(() => this.flushRollups()),
      this.#opts.rollupFlushMs ?? 300_000,
    );
    this.#flushTimer.unref?.();
    this.#pruneTimer = setInterval(
      () => this.#inBackground(() => this.pruneHistory()),
      this.#opts.pruneEveryMs ?? 3_600_000,
    );
    this.#pruneTimer.unref?.();
    return this.reload(specs);
  }

  /** Replaces the set of monitors by `specs` (names are identities). Resolves once started/stopped. */
  reload(specs: readonly MonitorSpec[]): Promise<void> {
    const next = this.#queue.then(() => this.#reload(specs));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #reload(specs: readonly MonitorSpec[]): Promise<void> {
    if (this.#stopped) return;
    const wanted = new Map(specs.map((s) => [s.name, s]));
    const removed = [...this.#runtimes.entries()].filter(([name]) => !wanted.has(name));
    for (const [name, rt] of removed) {
      this.#runtimes.delete(name);
      await rt.stop(new Error(`monitor ${name} was removed`));
    }
    for (const spec of specs) {
      const rt = this.#runtimes.get(spec.name);
      if (rt) {
        if (!isDeepStrictEqual(rt.spec, spec)) rt.update(spec);
        continue;
      }
      const fresh = new MonitorRuntime(spec, {
        store: this.#opts.store,
        runRound: this.#opts.runRound,
        inventoryOf: this.#opts.inventoryOf,
        newRunId: this.#opts.newRunId ?? randomUUID,
        now: this.#now,
        keepRounds: this.#opts.keepRounds ?? 10,
        onTransitions: this.#opts.onTransitions,
        onRoundCommitted: this.#opts.onRoundCommitted,
        log: this.#opts.log,
      });
      await fresh.start();
      this.#runtimes.set(spec.name, fresh);
    }
  }

  /** Pauses a monitor's rounds (a running round finishes). False if there is no such monitor. */
  pause(name: string): boolean {
    const rt = this.#runtimes.get(name);
    rt?.pause();
    return rt !== undefined;
  }

  /** Resumes a paused monitor: its next round starts now, or one interval after the last start. */
  resume(name: string): boolean {
    const rt = this.#runtimes.get(name);
    rt?.resume();
    return rt !== undefined;
  }

  /** Live status of one monitor, or of all (by name). */
  status(name: string): MonitorStatus | undefined;
  status(): MonitorStatus[];
  status(name?: string): MonitorStatus | MonitorStatus[] | undefined {
    if (name !== undefined) return this.#runtimes.get(name)?.status();
    return [...this.#runtimes.values()].map((rt) => rt.status()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The runtime of a monitor (tests, summaries). */
  runtime(name: string): MonitorRuntime | undefined {
    return this.#runtimes.get(name);
  }

  /** Writes every monitor's pending rollup deltas now (also before reading uptime that must include them). */
  async flushRollups(): Promise<void> {
    for (const rt of this.#runtimes.values()) await rt.flushRollups();
  }

  /** Deletes transitions and rollups past their keep times. Never rejects (a failure is logged). */
  async pruneHistory(): Promise<void> {
    const now = this.#now();
    try {
      await this.#opts.store.pruneHistory({
        transitionsBefore: new Date(now - (this.#opts.transitionsKeepMs ?? 90 * DAY_MS)),
        rollupsBefore: new Date(now - (this.#opts.rollupsKeepMs ?? 31 * DAY_MS)),
      });
    } catch (err) {
      this.#opts.log?.warn({ err }, 'monitor history retention failed; retrying at the next tick');
    }
  }

  /**
   * Stops every monitor, flushes rollups, stops the timers. Running rounds are aborted with `reason` (default:
   * an Error; pass the lifecycle's `InterruptedError` on shutdown so they end `interrupted`) and discarded.
   */
  stop(reason: unknown = new Error('monitors are stopping')): Promise<void> {
    const next = this.#queue.then(async () => {
      this.#stopped = true;
      clearInterval(this.#flushTimer);
      clearInterval(this.#pruneTimer);
      const all = [...this.#runtimes.values()];
      this.#runtimes.clear();
      await Promise.all(all.map((rt) => rt.stop(reason)));
      await this.#background;
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Runs timer work one at a time, tracked so `stop()` waits for it; errors are logged. */
  #inBackground(fn: () => Promise<void>): void {
    this.#background = this.#background.then(fn).catch((err: unknown) => {
      this.#opts.log?.warn({ err }, 'monitor background task failed');
    });
  }
}
