import type { RuleKind } from '../model/alert-rules.js';
import type { AlertState, Notification } from '../model/notification.js';
import type { Silence, SilenceInput } from '../model/silences.js';

/** One alert instance as stored in the history (times ISO-8601). */
export interface AlertRecord {
  readonly fingerprint: string;
  readonly monitor: string;
  readonly rule: string;
  readonly kind: RuleKind;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: AlertState;
  readonly startsAt: string;
  readonly endsAt: string | null;
  /** The silence that held it back when last recorded, or null (recorded but not sent). */
  readonly silencedBy: string | null;
  /** The cohort/fleet alert that held it back when last recorded, or null. */
  readonly inhibitedBy: string | null;
  readonly updatedAt: string;
}

/** A notification to put in the outbox for one notifier. */
export interface OutboxInsert {
  readonly notifier: string;
  readonly notification: Notification;
  /** Which repeat of a firing notification this is (0 first); 0 for resolved. Part of the dedup key. */
  readonly repeat: number;
}

export const OUTBOX_OUTCOMES = ['delivered', 'superseded', 'gave_up'] as const;
export type OutboxOutcome = (typeof OUTBOX_OUTCOMES)[number];

/** An outbox row as claimed by a dispatcher. */
export interface OutboxRow {
  readonly id: number;
  readonly notifier: string;
  readonly notification: Notification;
  /** `notifier|fingerprint|startsAt|state|repeat`: the same for every attempt of this notification. */
  readonly dedupKey: string;
  /** Attempts so far, this one included. */
  readonly attempts: number;
  readonly createdAt: string;
}

/** An outbox row as listed (diagnostics, tests, delivery counters). */
export interface OutboxEntry extends OutboxRow {
  readonly nextAttemptAt: string;
  readonly leaseOwner: string | null;
  readonly leaseUntil: string | null;
  readonly doneAt: string | null;
  readonly outcome: OutboxOutcome | null;
  readonly lastError: string | null;
}

/**
 * Alert history, the delivery outbox and silences, in SQLite or PostgreSQL. Failures are `StoreError`
 * (`FP_STORE`); a bad cursor is `CursorError`. No method holds a transaction across awaits (SQLite shares
 * one connection with the results hot path): each is one statement, or a sequence safe to interrupt.
 */
export interface AlertStore {
  /** Upserts alert instances by (fingerprint, startsAt): state, endsAt, annotations and flags are updated. */
  recordAlerts(alerts: readonly AlertRecord[]): Promise<void>;
  /** Newest first; `cursor` is the previous page's `nextCursor`. */
  listAlerts(q: { state?: AlertState; monitor?: string; limit: number; cursor?: string }): Promise<{
    alerts: AlertRecord[];
    nextCursor: string | null;
  }>;

  /**
   * Enqueues notifications; idempotent (a dedup key per notifier, fingerprint, startsAt, state and repeat:
   * the same one twice is a no-op). A new row supersedes the alert's older undelivered rows for that notifier
   * that no dispatcher holds. A resolved notification is enqueued only when a firing one of the same alert
   * instance was delivered to that notifier (or is being delivered); otherwise its pending firing rows are
   * superseded and nothing is sent. Returns the number of rows inserted.
   */
  enqueue(rows: readonly OutboxInsert[], nowMs: number): Promise<number>;
  /**
   * Claims up to `limit` due rows for `owner` until `nowMs + leaseMs`, oldest first, counting an attempt. A
   * row is due when undelivered, its next attempt has come, no live lease holds it (an expired lease, e.g.
   * of a process that died mid-delivery, counts as none), and no older undelivered row of the same notifier
   * and fingerprint exists (so firing, repeats and resolve arrive in order). Safe for several processes.
   */
  claimOutbox(q: { owner: string; limit: number; leaseMs: number; nowMs: number }): Promise<OutboxRow[]>;
  /** Ends a claimed row: delivered, or given up (a permanent failure). */
  finishOutbox(id: number, outcome: 'delivered' | 'gave_up', nowMs: number, error?: string): Promise<void>;
  /**
   * Releases a claimed row for another attempt at `nextAttemptMs`; when a newer row of the same alert and
   * notifier exists, the row is superseded instead (sending it late would only be noise).
   */
  retryOutbox(id: number, nextAttemptMs: number, error: string, nowMs: number): Promise<void>;
  /** Rows, newest first (diagnostics and tests); `pending` keeps undone rows. */
  listOutbox(q: { notifier?: string; pending?: boolean; limit: number }): Promise<OutboxEntry[]>;
  /**
   * The earliest time after `nowMs` when an undone row's retry comes due or a lease on one expires (ms), or
   * null: when a dispatcher that found nothing to claim should look again.
   */
  nextOutboxAttemptMs(nowMs: number): Promise<number | null>;

  /** Stores a silence; `id` and `createdAt` are given by the caller. */
  createSilence(s: SilenceInput & { id: string; startsAt: string; createdAt: string }): Promise<Silence>;
  getSilence(id: string): Promise<Silence | undefined>;
  /** Silences not yet ended at `nowMs` (in force or future), ordered by start; all when `nowMs` is omitted. */
  listSilences(q?: { nowMs?: number }): Promise<Silence[]>;
  /** Ends a silence at `nowMs` (kept for the record). Returns false when there is no such silence. */
  expireSilence(id: string, nowMs: number): Promise<boolean>;

  /** Retention: deletes resolved alerts that ended and finished outbox rows done before `cutoff`. */
  deleteAlertsOlderThan(cutoff: Date): Promise<{ alerts: number; outbox: number }>;
}
