import { type Result, STATUSES, type Status } from '../engine/result.js';
import type { TargetState } from '../model/monitor-spec.js';
import {
  INITIAL_MACHINE,
  type MachineState,
  packMachine,
  type StatePolicy,
  shownState,
  stepMachine,
  unpackMachine,
} from './state-machine.js';

/** A target's state as loaded from / written to the store (times in ms since the epoch). */
export interface TargetSnapshot {
  readonly target: string;
  /** null when the result has no port. */
  readonly port: number | null;
  readonly name: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: TargetState;
  /** The packed machine word (`packMachine`). */
  readonly machine: number;
  readonly streak: number;
  /** Time of the last transition (or of the first counted result). */
  readonly sinceMs: number;
  readonly lastAtMs: number | null;
  readonly lastStatus: Status | null;
  readonly lastRun: string | null;
}

/** A state change found when a round is committed, with the result that caused it. */
export interface TargetTransition {
  readonly target: string;
  readonly port: number | null;
  /** The causing result's start time, ms since the epoch. */
  readonly atMs: number;
  readonly from: TargetState;
  readonly to: TargetState;
  readonly run: string;
  readonly status: Status;
  readonly message: string;
}

/** One counted result, as fed to rollups at commit. */
export type CountedSink = (slot: number, status: Status, atMs: number, durationMs: number) => void;

const NONE = 0;
const MAX_INTERNED_LABELS = 100_000;
const statusCode = (s: Status): number => STATUSES.indexOf(s) + 1;
const statusOf = (code: number): Status | null => (code === NONE ? null : STATUSES[code - 1]!);
const keyOf = (target: string, port: number | null): string => `${target}|${port ?? 0}`;

/**
 * The per-target states of one monitor, packed in typed arrays (struct of arrays) so 250,000 targets cost a
 * few tens of MB, not an object graph each: a 32-bit machine word, a 16-bit streak, three timestamps and two
 * status bytes per target, plus its key string, name and interned labels.
 *
 * Results of the running round are only *buffered* (`observe`): the committed state changes in `commit()`,
 * which the owner calls only for a round that ended `done`; `discard()` drops the buffer of a round that was
 * cancelled, interrupted or failed, so such a round never causes a transition. While a round runs the
 * committed state is fixed, so the transition a result will cause is known when it arrives: only the causing
 * result's message is kept, for those few targets.
 */
export class TargetTable {
  readonly #slots = new Map<string, number>();
  readonly #free: number[] = [];
  readonly #internedLabels = new Map<string, Readonly<Record<string, string>>>();
  #cap: number;
  #end = 0;
  #target: (string | undefined)[] = [];
  #name: (string | null)[] = [];
  #labels: Readonly<Record<string, string>>[] = [];
  #port: Int32Array;
  #machine: Uint32Array;
  #streak: Uint16Array;
  #sinceMs: Float64Array;
  #lastAtMs: Float64Array;
  #lastStatus: Uint8Array;
  #lastRun: (string | null)[] = [];
  #pendingStatus: Uint8Array;
  #pendingAtMs: Float64Array;
  #pendingDurationMs: Float32Array;
  #pendingRun: string | null = null;
  #pendingCount = 0;
  readonly #causes = new Map<number, { status: Status; message: string }>();

  constructor(initialCapacity = 1024) {
    this.#cap = Math.max(16, initialCapacity);
    this.#port = new Int32Array(this.#cap);
    this.#machine = new Uint32Array(this.#cap);
    this.#streak = new Uint16Array(this.#cap);
    this.#sinceMs = new Float64Array(this.#cap);
    this.#lastAtMs = new Float64Array(this.#cap);
    this.#lastStatus = new Uint8Array(this.#cap);
    this.#pendingStatus = new Uint8Array(this.#cap);
    this.#pendingAtMs = new Float64Array(this.#cap);
    this.#pendingDurationMs = new Float32Array(this.#cap);
  }

  /** Targets known (committed or seen in the running round). */
  get size(): number {
    return this.#slots.size;
  }

  /** Results buffered for the running round. */
  get pendingCount(): number {
    return this.#pendingCount;
  }

  /** Adds or replaces a target's committed state (restart). */
  load(s: TargetSnapshot): void {
    const slot = this.#slotFor(s.target, s.port);
    this.#name[slot] = s.name;
    this.#labels[slot] = this.#intern(s.labels);
    this.#machine[slot] = s.machine;
    this.#streak[slot] = s.streak;
    this.#sinceMs[slot] = s.sinceMs;
    this.#lastAtMs[slot] = s.lastAtMs ?? Number.NaN;
    this.#lastStatus[slot] = s.lastStatus === null ? NONE : statusCode(s.lastStatus);
    this.#lastRun[slot] = s.lastRun;
  }

  /**
   * Buffers one stored result of the running round. `cancelled` results are ignored; a second result for the
   * same target and port in one round is ignored (the store keeps the first one too).
   */
  observe(r: Result, policy: StatePolicy): void {
    if (r.status === 'cancelled') return;
    if (this.#pendingRun !== null && this.#pendingRun !== r.run) {
      throw new Error(`result of run ${r.run} observed while round ${this.#pendingRun} is buffered`);
    }
    this.#pendingRun = r.run;
    const slot = this.#slotFor(r.target, r.port);
    if (this.#pendingStatus[slot] !== NONE) return;
    this.#pendingStatus[slot] = statusCode(r.status);
    const atMs = Date.parse(r.startedAt);
    this.#pendingAtMs[slot] = Number.isNaN(atMs) ? Date.now() : atMs;
    this.#pendingDurationMs[slot] = r.durationMs;
    this.#pendingCount++;
    this.#name[slot] = r.name;
    this.#labels[slot] = this.#intern(r.labels);
    const before = this.#machineAt(slot);
    const after = stepMachine(before, r.status === 'pass', policy);
    if (shownState(before) !== shownState(after))
      this.#causes.set(slot, { status: r.status, message: r.message });
  }

  /**
   * Applies the buffered round to the committed states and clears the buffer. Returns the transitions, the
   * slots whose state changed (to be written), and the targets dropped because the round (with at least one
   * result) had none for them: the inventory no longer lists them.
   */
  commit(
    policy: StatePolicy,
    counted?: CountedSink,
  ): {
    transitions: TargetTransition[];
    updated: number[];
    removed: { slot: number; target: string; port: number | null }[];
  } {
    const run = this.#pendingRun;
    const transitions: TargetTransition[] = [];
    const updated: number[] = [];
    const removed: { slot: number; target: string; port: number | null }[] = [];
    if (run === null) return { transitions, updated, removed };
    for (let slot = 0; slot < this.#end; slot++) {
      const target = this.#target[slot];
      if (target === undefined) continue;
      const code = this.#pendingStatus[slot]!;
      if (code === NONE) {
        removed.push({ slot, target, port: this.#portAt(slot) });
        this.#release(slot);
        continue;
      }
      const status = statusOf(code)!;
      const atMs = this.#pendingAtMs[slot]!;
      counted?.(slot, status, atMs, this.#pendingDurationMs[slot]!);
      const before = this.#machineAt(slot);
      const after = stepMachine(before, status === 'pass', policy);
      const from = shownState(before);
      const to = shownState(after);
      if (from !== to || before.lastOk === null) this.#sinceMs[slot] = atMs;
      if (from !== to) {
        const cause = this.#causes.get(slot) ?? { status, message: '' };
        transitions.push({ target, port: this.#portAt(slot), atMs, from, to, run, ...cause });
      }
      this.#machine[slot] = packMachine(after);
      this.#streak[slot] = after.streak;
      this.#lastAtMs[slot] = atMs;
      this.#lastStatus[slot] = code;
      this.#lastRun[slot] = run;
      updated.push(slot);
    }
    this.discard();
    return { transitions, updated, removed };
  }

  /** Drops the buffered round (cancelled, interrupted or failed): committed states are unchanged. */
  discard(): void {
    this.#pendingStatus.fill(NONE, 0, this.#end);
    this.#pendingRun = null;
    this.#pendingCount = 0;
    this.#causes.clear();
    // Targets first seen in the discarded round have no committed state: forget them.
    for (let slot = 0; slot < this.#end; slot++) {
      if (this.#target[slot] !== undefined && Number.isNaN(this.#lastAtMs[slot]!)) this.#release(slot);
    }
  }

  /** The committed state of a slot (for writing to the store). */
  snapshot(slot: number): TargetSnapshot {
    const target = this.#target[slot];
    if (target === undefined) throw new RangeError(`slot ${slot} is free`);
    const last = this.#lastAtMs[slot]!;
    return {
      target,
      port: this.#portAt(slot),
      name: this.#name[slot] ?? null,
      labels: this.#labels[slot]!,
      state: shownState(this.#machineAt(slot)),
      machine: this.#machine[slot]!,
      streak: this.#streak[slot]!,
      sinceMs: this.#sinceMs[slot]!,
      lastAtMs: Number.isNaN(last) ? null : last,
      lastStatus: statusOf(this.#lastStatus[slot]!),
      lastRun: this.#lastRun[slot] ?? null,
    };
  }

  /** The slot of a target, if known. */
  slotOf(target: string, port: number | null): number | undefined {
    return this.#slots.get(keyOf(target, port));
  }

  /** Committed state per target (tests, summaries). */
  *snapshots(): Generator<TargetSnapshot> {
    for (let slot = 0; slot < this.#end; slot++) {
      if (this.#target[slot] !== undefined && !Number.isNaN(this.#lastAtMs[slot]!)) yield this.snapshot(slot);
    }
  }

  /** Number of targets per shown state (committed). Cheap: reads the packed words, builds no object per target. */
  countByState(): Record<TargetState, number> {
    const counts: Record<TargetState, number> = { UP: 0, DOWN: 0, UNKNOWN: 0, FLAPPING: 0 };
    for (let slot = 0; slot < this.#end; slot++) {
      if (this.#target[slot] === undefined || Number.isNaN(this.#lastAtMs[slot]!)) continue;
      counts[shownState(unpackMachine(this.#machine[slot]!, 0))]++;
    }
    return counts;
  }

  #machineAt(slot: number): MachineState {
    return Number.isNaN(this.#lastAtMs[slot]!)
      ? INITIAL_MACHINE
      : unpackMachine(this.#machine[slot]!, this.#streak[slot]!);
  }

  #portAt(slot: number): number | null {
    const p = this.#port[slot]!;
    return p < 0 ? null : p;
  }

  #intern(labels: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const json = JSON.stringify(labels);
    let shared = this.#internedLabels.get(json);
    if (!shared) {
      // Labels unique per target and changing every round would grow this without end: start over instead.
      if (this.#internedLabels.size >= MAX_INTERNED_LABELS) this.#internedLabels.clear();
      shared = Object.freeze({ ...labels });
      this.#internedLabels.set(json, shared);
    }
    return shared;
  }

  #slotFor(target: string, port: number | null): number {
    const key = keyOf(target, port);
    let slot = this.#slots.get(key);
    if (slot !== undefined) return slot;
    slot = this.#free.pop() ?? this.#end++;
    if (slot >= this.#cap) this.#grow();
    this.#slots.set(key, slot);
    this.#target[slot] = target;
    this.#port[slot] = port ?? -1;
    this.#name[slot] = null;
    this.#machine[slot] = 0;
    this.#streak[slot] = 0;
    this.#sinceMs[slot] = Number.NaN;
    this.#lastAtMs[slot] = Number.NaN; // NaN = no committed state yet
    this.#lastStatus[slot] = NONE;
    this.#lastRun[slot] = null;
    this.#pendingStatus[slot] = NONE;
    return slot;
  }

  #release(slot: number): void {
    const target = this.#target[slot];
    if (target === undefined) return;
    this.#slots.delete(keyOf(target, this.#portAt(slot)));
    this.#target[slot] = undefined;
    this.#name[slot] = null;
    this.#lastRun[slot] = null;
    this.#pendingStatus[slot] = NONE;
    this.#free.push(slot);
  }

  #grow(): void {
    const cap = this.#cap * 2;
    const grow = <
      A extends Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array | Float32Array,
    >(
      a: A,
      make: (n: number) => A,
    ): A => {
      const b = make(cap);
      b.set(a as never);
      return b;
    };
    this.#port = grow(this.#port, (n) => new Int32Array(n));
    this.#machine = grow(this.#machine, (n) => new Uint32Array(n));
    this.#streak = grow(this.#streak, (n) => new Uint16Array(n));
    this.#sinceMs = grow(this.#sinceMs, (n) => new Float64Array(n));
    this.#lastAtMs = grow(this.#lastAtMs, (n) => new Float64Array(n));
    this.#lastStatus = grow(this.#lastStatus, (n) => new Uint8Array(n));
    this.#pendingStatus = grow(this.#pendingStatus, (n) => new Uint8Array(n));
    this.#pendingAtMs = grow(this.#pendingAtMs, (n) => new Float64Array(n));
    this.#pendingDurationMs = grow(this.#pendingDurationMs, (n) => new Float32Array(n));
    this.#cap = cap;
  }
}
