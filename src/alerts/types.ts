import type { Status } from '../engine/result.js';
import type { RuleKind } from '../model/alert-rules.js';
import type { TargetState } from '../model/monitor-spec.js';
import type { AlertState, Notification } from '../model/notification.js';

/** What the evaluator needs to know of a target's last result in the round. */
export interface LastResult {
  readonly status: Status;
  readonly durationMs: number;
  readonly message: string;
  /** The check's observations (the http check puts `cert: {validTo, daysLeft}` here). */
  readonly data: Readonly<Record<string, unknown>>;
}

/** One target of a monitor after a round: its damped state and (when it was checked this round) its result. */
export interface TargetStatus {
  readonly target: string;
  /** null when the target has no port. */
  readonly port: number | null;
  readonly name: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: TargetState;
  /** When the target entered `state`, ms since the epoch. */
  readonly sinceMs: number;
  /** Its result in this round; null when it was not checked in this round. */
  readonly last: LastResult | null;
}

/**
 * The input of one evaluation: a monitor's targets after one committed round. The monitor runtime builds it
 * after the round (from its TargetTable and the round's results); the evaluator never does I/O.
 */
export interface RoundSnapshot {
  readonly monitor: string;
  /** The monitor's own labels (added to every alert, below the rule's labels). */
  readonly monitorLabels: Readonly<Record<string, string>>;
  /** When the round was committed, ms since the epoch: the evaluation's "now". */
  readonly atMs: number;
  /** Every target of the monitor's current inventory, once each. */
  readonly targets: Iterable<TargetStatus>;
}

/**
 * One alert, Alertmanager-shaped: identified by `fingerprint` (a hash of its sorted labels), one instance per
 * `startsAt`. `endsAt` is null while firing.
 */
export interface Alert {
  readonly fingerprint: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: AlertState;
  /** ISO-8601. */
  readonly startsAt: string;
  /** ISO-8601; null while firing. */
  readonly endsAt: string | null;
  readonly monitor: string;
  readonly rule: string;
  readonly kind: RuleKind;
  /** Fingerprint of the cohort/fleet alert holding this alert back (not delivered), or null. */
  readonly inhibitedBy: string | null;
  /**
   * Addresses of the targets causing the alert (one for per-target alerts, the DOWN members for cohort and
   * fleet alerts): what silences by target or CIDR match. In memory only; never stored or sent.
   */
  readonly members: readonly string[];
}

export function notificationOf(alert: Alert, generatorURL: string): Notification {
  return {
    fingerprint: alert.fingerprint,
    state: alert.state,
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    generatorURL,
  };
}
