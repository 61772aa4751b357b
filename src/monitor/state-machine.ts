import type { TargetState } from '../model/monitor-spec.js';

/** Rounds of outcome history kept per target for flap detection. */
export const HISTORY_ROUNDS = 20;
const HISTORY_MASK = (1 << HISTORY_ROUNDS) - 1;
/** Streaks saturate here (they only need to reach `downAfter` / `upAfter`). */
const MAX_STREAK = 0xffff;

/** Default flap thresholds, in percent of weighted outcome changes over the last 20 rounds. */
export const DEFAULT_FLAP_HIGH_PCT = 40;
export const DEFAULT_FLAP_LOW_PCT = 20;

/** How results move a target between states (validated at the edge; see `policyOf`). */
export interface StatePolicy {
  /** Consecutive non-pass results before a target becomes DOWN (>= 1). */
  readonly downAfter: number;
  /** Consecutive passes before a target becomes UP (>= 1). */
  readonly upAfter: number;
  /** Flapping starts when the weighted change percentage reaches this (0..100). */
  readonly flapHighPct: number;
  /** Flapping ends when the weighted change percentage falls below this (<= flapHighPct). */
  readonly flapLowPct: number;
}

export type BaseState = Exclude<TargetState, 'FLAPPING'>;

/**
 * One target's state machine, small enough to pack into a 32-bit word and a 16-bit streak
 * (`packMachine`). `base` is the damped UP/DOWN/UNKNOWN state, which keeps moving while the target
 * flaps, so leaving FLAPPING lands on the state the results support.
 */
export interface MachineState {
  readonly base: BaseState;
  readonly flapping: boolean;
  /** Bit i (0 = newest) is 1 when the outcome (pass vs non-pass) changed in that round. 20 bits. */
  readonly history: number;
  /** Outcome of the last counted result (true = pass); null before the first. */
  readonly lastOk: boolean | null;
  /** Consecutive counted results with outcome `lastOk` (saturates at 65535). */
  readonly streak: number;
}

export const INITIAL_MACHINE: MachineState = Object.freeze({
  base: 'UNKNOWN',
  flapping: false,
  history: 0,
  lastOk: null,
  streak: 0,
});

/** The state shown to users: FLAPPING overrides the damped state. */
export function shownState(s: MachineState): TargetState {
  return s.flapping ? 'FLAPPING' : s.base;
}

// Nagios' curve: the oldest of the 20 changes weighs 0.75, the newest 1.25, linearly in between.
const WEIGHTS = Array.from(
  { length: HISTORY_ROUNDS },
  (_, k) => 0.75 + ((HISTORY_ROUNDS - 1 - k) * 0.5) / (HISTORY_ROUNDS - 1),
);

/** Weighted percentage (0..100) of rounds whose outcome changed, over the 20-round history (Nagios flap detection). */
export function flapPercent(history: number): number {
  let sum = 0;
  for (let k = 0; k < HISTORY_ROUNDS; k++) if (history & (1 << k)) sum += WEIGHTS[k]!;
  return (sum * 100) / HISTORY_ROUNDS;
}

/**
 * Applies one counted outcome (`ok` = the result passed; fail, error and timeout are non-pass). Pure.
 * Callers never feed `cancelled` results, nor results of a round that did not complete.
 */
export function stepMachine(s: MachineState, ok: boolean, p: StatePolicy): MachineState {
  const changed = s.lastOk !== null && s.lastOk !== ok;
  const history = ((s.history << 1) | (changed ? 1 : 0)) & HISTORY_MASK;
  const streak = s.lastOk === ok ? Math.min(s.streak + 1, MAX_STREAK) : 1;
  let base = s.base;
  if (ok && streak >= p.upAfter) base = 'UP';
  else if (!ok && streak >= p.downAfter) base = 'DOWN';
  const pct = flapPercent(history);
  const flapping = s.flapping ? pct >= p.flapLowPct : pct >= p.flapHighPct;
  return { base, flapping, history, lastOk: ok, streak };
}

const BASE_CODES: readonly BaseState[] = ['UNKNOWN', 'UP', 'DOWN'];

/**
 * Packs everything but the streak into one unsigned 32-bit word: bits 0-19 history, 20-21 base state,
 * 22 flapping, 23 has-last-outcome, 24 last outcome ok.
 */
export function packMachine(s: MachineState): number {
  return (
    (s.history |
      (BASE_CODES.indexOf(s.base) << 20) |
      (s.flapping ? 1 << 22 : 0) |
      (s.lastOk === null ? 0 : 1 << 23) |
      (s.lastOk ? 1 << 24 : 0)) >>>
    0
  );
}

/** Inverse of `packMachine`. */
export function unpackMachine(word: number, streak: number): MachineState {
  return {
    history: word & HISTORY_MASK,
    base: BASE_CODES[(word >>> 20) & 3] ?? 'UNKNOWN',
    flapping: (word & (1 << 22)) !== 0,
    lastOk: (word & (1 << 23)) === 0 ? null : (word & (1 << 24)) !== 0,
    streak,
  };
}

/** The state policy of a monitor, with defaults for the optional flap thresholds. */
export function policyOf(spec: {
  readonly downAfter: number;
  readonly upAfter: number;
  readonly flapHighPct?: number;
  readonly flapLowPct?: number;
}): StatePolicy {
  const flapHighPct = spec.flapHighPct ?? DEFAULT_FLAP_HIGH_PCT;
  return {
    downAfter: Math.max(1, spec.downAfter),
    upAfter: Math.max(1, spec.upAfter),
    flapHighPct,
    flapLowPct: Math.min(spec.flapLowPct ?? DEFAULT_FLAP_LOW_PCT, flapHighPct),
  };
}
