/** An alert is firing while its condition holds, then resolved. */
export const ALERT_STATES = ['firing', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** A firing or resolved alert as a notifier sends it (no members, no inhibition). */
export interface Notification {
  readonly fingerprint: string;
  readonly state: AlertState;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string | null;
  /** Link back to fleetprobe (the monitor's page), or '' when no public URL is configured. */
  readonly generatorURL: string;
}
