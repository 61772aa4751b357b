import type { LabelMatcher } from '../../model/label-matchers.js';
import type { Notification } from '../../model/notification.js';

export const NOTIFIER_TYPES = ['alertmanager', 'webhook', 'slack', 'email'] as const;
export type NotifierType = (typeof NOTIFIER_TYPES)[number];

/** What a notifier is told about one delivery attempt. */
export interface DeliveryContext {
  /** Aborted on shutdown or when the attempt's timeout fires. */
  readonly signal: AbortSignal;
  /** Stable per notification (the outbox dedup key): receivers can drop repeats of an at-least-once delivery. */
  readonly deliveryId: string;
}

/**
 * Sends notifications to one receiver. `send` resolves once the receiver accepted the notification and
 * throws `NotifyError` otherwise (its `retryable` says whether to try again). A notifier keeps no state
 * between sends except its connections, released by `close()`.
 */
export interface Notifier {
  readonly name: string;
  readonly type: NotifierType;
  /** How often a notification is repeated while its alert stays firing, in ms. */
  readonly repeatIntervalMs: number;
  /** Alerts this notifier receives (all of them when empty). */
  readonly matchers: readonly LabelMatcher[];
  send(n: Notification, ctx: DeliveryContext): Promise<void>;
  close(): Promise<void>;
}

/** `[FIRING:critical] cohort-down pop=waw: 50 of 100 targets ...`: the one-line title every text notifier uses. */
export function titleOf(n: Notification): string {
  const severity = n.labels.severity ? `:${n.labels.severity}` : '';
  const summary = n.annotations.summary ? `: ${n.annotations.summary}` : '';
  return `[${n.state.toUpperCase()}${severity}] ${n.labels.alertname ?? 'alert'} (${n.labels.monitor ?? ''})${summary}`;
}

/** The body text every text notifier uses: annotations, then labels, one per line. */
export function bodyOf(n: Notification): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(n.annotations)) lines.push(`${k}: ${v}`);
  lines.push(`startsAt: ${n.startsAt}`);
  if (n.endsAt) lines.push(`endsAt: ${n.endsAt}`);
  lines.push('', 'labels:');
  for (const [k, v] of Object.entries(n.labels)) lines.push(`  ${k}=${v}`);
  if (n.generatorURL) lines.push('', n.generatorURL);
  return lines.join('\n');
}
