import type { TargetInput } from '../targets/target-input.js';
import type { AlertRule } from './alert-rules.js';

/** Where a monitor was defined: the config file (read-only through the API) or the API/CLI (stored). */
export const MONITOR_SOURCES = ['config', 'api'] as const;
export type MonitorSource = (typeof MONITOR_SOURCES)[number];

/** A monitor as validated at the edge (config file, API), frozen and passed inward. */
export interface MonitorSpec {
  /** Stable id: the monitor's name (unique, `[A-Za-z0-9_.-]+`). */
  readonly name: string;
  /** Registered check name (`tcp`, `http`, `dns`, `ssh`, or a named user check). */
  readonly check: string;
  /** Check arguments as given (JSON-safe); validated by the check when a round starts. */
  readonly args: Readonly<Record<string, unknown>>;
  /** Name of an inventory in the config, or inline targets (specs as `run` takes them, or target objects). */
  readonly inventory: string | { readonly targets: readonly TargetInput[] };
  /** Time between round starts, in ms. */
  readonly intervalMs: number;
  /** Per-target deadline in ms; default: the check's. */
  readonly timeoutMs?: number;
  /** Checks in flight during a round (default 256). */
  readonly concurrency?: number;
  /** Labels added to every result of this monitor. */
  readonly labels: Readonly<Record<string, string>>;
  /** Consecutive non-pass results before a target becomes DOWN (default 2). */
  readonly downAfter: number;
  /** Consecutive passes before a DOWN target becomes UP again (default 1). */
  readonly upAfter: number;
  /** Whether rounds are suspended. */
  readonly paused: boolean;
  /** Flapping starts when the weighted share of outcome changes over the last 20 rounds reaches this percentage (default 40). */
  readonly flapHighPct?: number;
  /** Flapping ends when that share falls below this percentage (default 20; at most `flapHighPct`). */
  readonly flapLowPct?: number;
  /**
   * Alert rules of an API monitor, stored with it (never empty when present). A config monitor's rules are
   * the config's `alertRules`, not here.
   */
  readonly alerts?: readonly AlertRule[];
  readonly source: MonitorSource;
}

export const TARGET_STATES = ['UP', 'DOWN', 'UNKNOWN', 'FLAPPING'] as const;
export type TargetState = (typeof TARGET_STATES)[number];
