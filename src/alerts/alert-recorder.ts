import { matchesAll } from '../model/label-matchers.js';
import { type Silence, silencedBy } from '../model/silences.js';
import type { AlertRecord, AlertStore, OutboxInsert } from '../store/alert-store.js';
import type { Evaluation } from './evaluator.js';
import type { Notifier } from './notifiers/notifier.js';
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
  /** fingerprint -> what was last written for it, so a round only writes what changed. */
  readonly #written = new Map<string, string>();
  /** `fingerprint|notifier` -> the repeat last enqueued (the store would ignore it again anyway). */
  readonly #enqueued = new Map<string, number>();

  constructor(opts: AlertRecorderOptions) {
    this.#store = opts.store;
    this.#notifiers = opts.notifiers;
    this.#generatorURL = opts.generatorURL ?? (() => '');
  }

  /** Replaces the notifiers (config reload). */
  setNotifiers(notifiers: readonly Notifier[]): void {
    this.#notifiers = notifiers;
  }

  /**
   * Records one evaluation. Only what changed is written: new and resolved alerts, and firing ones whose
   * annotations, silence or inhibition changed (a fleet-wide outage of 250,000 held-back target alerts costs
   * one write each once, not every round); a notification is enqueued once per repeat.
   */
  async record(ev: Evaluation, atMs: number, silences: readonly Silence[]): Promise<RecordOutcome> {
    const updatedAt = new Date(atMs).toISOString();
    const records: AlertRecord[] = [];
    const outbox: OutboxInsert[] = [];
    // Remembered only once the store took them: a failed write is tried again next round.
    const wrote: [string, string][] = [];
    const queued: [string, number][] = [];
    let silenced = 0;
    let inhibited = 0;
    for (const alert of ev.firing) {
      const silence = silencedBy(alert, silences, atMs);
      const written = `${alert.startsAt}|${silence}|${alert.inhibitedBy}|${JSON.stringify(alert.annotations)}`;
      if (this.#written.get(alert.fingerprint) !== written) {
        records.push(recordOf(alert, silence, updatedAt));
        wrote.push([alert.fingerprint, written]);
      }
      if (silence !== null) silenced++;
      if (alert.inhibitedBy !== null) inhibited++;
      if (silence !== null || alert.inhibitedBy !== null) continue;
      const notification = notificationOf(alert, this.#generatorURL(alert));
      const sinceStartMs = Math.max(0, atMs - Date.parse(alert.startsAt));
      for (const n of this.#notifiers) {
        if (!matchesAll(n.matchers, alert.labels)) continue;
        const repeat = Math.floor(sinceStartMs / n.repeatIntervalMs);
        const key = `${alert.fingerprint}|${n.name}`;
        if (this.#enqueued.get(key) === repeat) continue;
        queued.push([key, repeat]);
        outbox.push({ notifier: n.name, notification, repeat });
      }
    }
    for (const alert of ev.resolved) {
      this.#written.delete(alert.fingerprint);
      records.push(recordOf(alert, silencedBy(alert, silences, atMs), updatedAt));
      const notification = notificationOf(alert, this.#generatorURL(alert));
      for (const n of this.#notifiers) {
        this.#enqueued.delete(`${alert.fingerprint}|${n.name}`);
        if (matchesAll(n.matchers, alert.labels)) outbox.push({ notifier: n.name, notification, repeat: 0 });
      }
    }
    await this.#store.recordAlerts(records);
    const enqueued = outbox.length === 0 ? 0 : await this.#store.enqueue(outbox, atMs);
    for (const [fp, sig] of wrote) this.#written.set(fp, sig);
    for (const [key, repeat] of queued) this.#enqueued.set(key, repeat);
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
