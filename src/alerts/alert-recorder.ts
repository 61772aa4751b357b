import type { AlertRecord, AlertStore, OutboxInsert } from '../store/alert-store.js';
import type { Evaluation } from './evaluator.js';
import { matchesAll } from './matchers.js';
import type { Notifier } from './notifiers/notifier.js';
import { type Silence, silencedBy } from './silences.js';
import { type Alert, notificationOf } from './types.js';

export interface AlertRecorderOptions {
  readonly store: AlertStore;
  readonly notifiers: readonly Notifier[];
  /** The link an alert carries back to fleetprobe (Alertmanager's `generatorURL`); default none. */
  readonly generatorURL?: (alert: Alert) => string;
}

/** What one `record` call did. */
export interface RecordOutcome {
  /** Notifications newly put in the outbox. */
  readonly enqueued: number;
  /** Firing alerts recorded but not sent because a silence matched. */
  readonly silenced: number;
  /** Firing alerts held back by a cohort or fleet alert. */
  readonly inhibited: number;
}

/**
 * Turns an evaluation into history and outbox rows: every alert is recorded (with the silence or the alert
 * holding it back); a firing alert that is neither silenced nor inhibited is enqueued for each notifier whose
 * matchers match, once per repeat interval (repeat k is due `k x repeatInterval` after `startsAt`; enqueueing
 * is idempotent, so calling this after every round, or twice after a restart, sends nothing twice); a resolved
 * alert is enqueued where its firing was delivered. A silence holds back firing notifications only: a resolve
 * of an alert people were told about is still sent.
 */
export class AlertRecorder {
  readonly #store: AlertStore;
  #notifiers: readonly Notifier[];
  readonly #generatorURL: (alert: Alert) => string;

  constructor(opts: AlertRecorderOptions) {
    this.#store = opts.store;
    this.#notifiers = opts.notifiers;
    this.#generatorURL = opts.generatorURL ?? (() => '');
  }

  /** Replaces the notifiers (config reload). */
  setNotifiers(notifiers: readonly Notifier[]): void {
    this.#notifiers = notifiers;
  }

  async record(ev: Evaluation, atMs: number, silences: readonly Silence[]): Promise<RecordOutcome> {
    const updatedAt = new Date(atMs).toISOString();
    const records: AlertRecord[] = [];
    const outbox: OutboxInsert[] = [];
    let silenced = 0;
    let inhibited = 0;
    for (const alert of ev.firing) {
      const silence = silencedBy(alert, silences, atMs);
      records.push(recordOf(alert, silence, updatedAt));
      if (silence !== null) silenced++;
      if (alert.inhibitedBy !== null) inhibited++;
      if (silence !== null || alert.inhibitedBy !== null) continue;
      const notification = notificationOf(alert, this.#generatorURL(alert));
      const sinceStartMs = Math.max(0, atMs - Date.parse(alert.startsAt));
      for (const n of this.#notifiers) {
        if (!matchesAll(n.matchers, alert.labels)) continue;
        outbox.push({
          notifier: n.name,
          notification,
          repeat: Math.floor(sinceStartMs / n.repeatIntervalMs),
        });
      }
    }
    for (const alert of ev.resolved) {
      records.push(recordOf(alert, silencedBy(alert, silences, atMs), updatedAt));
      const notification = notificationOf(alert, this.#generatorURL(alert));
      for (const n of this.#notifiers) {
        if (matchesAll(n.matchers, alert.labels)) outbox.push({ notifier: n.name, notification, repeat: 0 });
      }
    }
    await this.#store.recordAlerts(records);
    const enqueued = outbox.length === 0 ? 0 : await this.#store.enqueue(outbox, atMs);
    return { enqueued, silenced, inhibited };
  }
}

function recordOf(alert: Alert, silencedBy: string | null, updatedAt: string): AlertRecord {
  return {
    fingerprint: alert.fingerprint,
    monitor: alert.monitor,
    rule: alert.rule,
    kind: alert.kind,
    labels: alert.labels,
    annotations: alert.annotations,
    state: alert.state,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    silencedBy,
    inhibitedBy: alert.inhibitedBy,
    updatedAt,
  };
}

/** The alert a stored record describes (for `AlertEvaluator.restore` after a restart; no members). */
export function alertOfRecord(r: AlertRecord): Alert {
  return {
    fingerprint: r.fingerprint,
    labels: r.labels,
    annotations: r.annotations,
    state: r.state,
    startsAt: r.startsAt,
    endsAt: r.endsAt,
    monitor: r.monitor,
    rule: r.rule,
    kind: r.kind,
    inhibitedBy: r.inhibitedBy,
    members: [],
  };
}
