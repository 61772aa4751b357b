import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import type { RuleKind } from '../model/alert-rules.js';
import type { AlertState, Notification } from '../model/notification.js';
import { matchersFromText, type Silence, type SilenceInput } from '../model/silences.js';
import type {
  AlertRecord,
  AlertStore,
  OutboxEntry,
  OutboxInsert,
  OutboxOutcome,
  OutboxRow,
} from './alert-store.js';
import { intCursor, keysetPage } from './cursors.js';
import type { StoreDialect } from './dialect.js';
import { guardStoreOp } from './errors.js';
import type { AlertOutboxTable, AlertsTable, Database, SilencesTable } from './schema.js';

const iso = (v: string | Date): string => (v instanceof Date ? v.toISOString() : v);
const isoOrNull = (v: string | Date | null): string | null => (v === null ? null : iso(v));
const isoMs = (ms: number): string => new Date(ms).toISOString();

function toAlertRecord(r: Selectable<AlertsTable>): AlertRecord {
  return {
    fingerprint: r.fingerprint,
    monitor: r.monitor,
    rule: r.rule,
    kind: r.kind as RuleKind,
    labels: JSON.parse(r.labels) as Record<string, string>,
    annotations: JSON.parse(r.annotations) as Record<string, string>,
    state: r.state as AlertState,
    startsAt: iso(r.starts_at),
    endsAt: isoOrNull(r.ends_at),
    silencedBy: r.silenced_by,
    inhibitedBy: r.inhibited_by,
    updatedAt: iso(r.updated_at),
  };
}

function toOutboxEntry(r: Selectable<AlertOutboxTable>): OutboxEntry {
  return {
    id: Number(r.id),
    notifier: r.notifier,
    notification: JSON.parse(r.payload) as Notification,
    attempts: Number(r.attempts),
    createdAt: iso(r.created_at),
    dedupKey: r.dedup_key,
    nextAttemptAt: iso(r.next_attempt_at),
    leaseOwner: r.lease_owner,
    leaseUntil: isoOrNull(r.lease_until),
    doneAt: isoOrNull(r.done_at),
    outcome: r.outcome as OutboxOutcome | null,
    lastError: r.last_error,
  };
}

function toSilence(r: Selectable<SilencesTable>): Silence {
  return {
    id: r.id,
    monitor: r.monitor,
    matchers: matchersFromText(JSON.parse(r.matchers) as string[]),
    targets: JSON.parse(r.targets) as string[],
    startsAt: iso(r.starts_at),
    endsAt: iso(r.ends_at),
    comment: r.comment,
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
  };
}

/** `notifier|fingerprint|startsAt|state|repeat`: one row per notification, however often it is enqueued. */
export function dedupKeyOf(row: OutboxInsert): string {
  const n = row.notification;
  return `${row.notifier}|${n.fingerprint}|${n.startsAt}|${n.state}|${row.repeat}`;
}

/** AlertStore over the shared kysely instance; the dialect only supplies column types and the claim lock. */
export class KyselyAlertStore implements AlertStore {
  readonly #d: StoreDialect;
  readonly #db: Kysely<Database>;

  constructor(d: StoreDialect) {
    this.#d = d;
    this.#db = d.db;
  }

  #guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    return guardStoreOp(op, fn);
  }

  /** A time parameter typed for the dialect (PostgreSQL cannot infer it inside INSERT ... SELECT). */
  #ts(ms: number): RawBuilder<string> {
    return this.#d.name === 'postgres' ? sql`CAST(${isoMs(ms)} AS timestamptz)` : sql`${isoMs(ms)}`;
  }

  recordAlerts(alerts: readonly AlertRecord[]): Promise<void> {
    return this.#guard('recordAlerts', async () => {
      for (const a of alerts) {
        const values = {
          fingerprint: a.fingerprint,
          monitor: a.monitor,
          rule: a.rule,
          kind: a.kind,
          labels: JSON.stringify(a.labels),
          annotations: JSON.stringify(a.annotations),
          state: a.state,
          starts_at: a.startsAt,
          ends_at: a.endsAt,
          silenced_by: a.silencedBy,
          inhibited_by: a.inhibitedBy,
          updated_at: a.updatedAt,
        };
        await this.#db
          .insertInto('alerts')
          .values(values)
          .onConflict((oc) =>
            oc.columns(['fingerprint', 'starts_at']).doUpdateSet({
              annotations: values.annotations,
              state: values.state,
              ends_at: values.ends_at,
              silenced_by: values.silenced_by,
              inhibited_by: values.inhibited_by,
              updated_at: values.updated_at,
            }),
          )
          .execute();
      }
    });
  }

  listAlerts(q: { state?: AlertState; monitor?: string; limit: number; cursor?: string }) {
    return this.#guard('listAlerts', async () => {
      const before = intCursor(q.cursor);
      let query = this.#db
        .selectFrom('alerts')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(q.limit + 1);
      if (q.state) query = query.where('state', '=', q.state);
      if (q.monitor) query = query.where('monitor', '=', q.monitor);
      if (before !== undefined) query = query.where('id', '<', before);
      const rows = await query.execute();
      const { page, nextCursor } = keysetPage(rows, q.limit, (last) => String(last.id));
      return { alerts: page.map(toAlertRecord), nextCursor };
    });
  }

  enqueue(rows: readonly OutboxInsert[], nowMs: number): Promise<number> {
    return this.#guard('enqueue', async () => {
      let inserted = 0;
      for (const row of rows) {
        const n = row.notification;
        const now = this.#ts(nowMs);
        const startsAt = this.#ts(Date.parse(n.startsAt));
        // A resolve goes only where the firing was seen (delivered, or being delivered right now).
        const condition =
          n.state === 'resolved'
            ? sql`EXISTS (SELECT 1 FROM alert_outbox f WHERE f.notifier = ${row.notifier}
                AND f.fingerprint = ${n.fingerprint} AND f.starts_at = ${startsAt} AND f.alert_state = 'firing'
                AND (f.outcome = 'delivered' OR (f.done_at IS NULL AND f.lease_until >= ${now})))`
            : sql`1 = 1`;
        const { rows: ids } = await sql<{ id: number | string }>`
          INSERT INTO alert_outbox (notifier, fingerprint, starts_at, alert_state, dedup_key, payload, attempts,
            next_attempt_at, created_at)
          SELECT ${row.notifier}, ${n.fingerprint}, ${startsAt}, ${n.state}, ${dedupKeyOf(row)}, ${JSON.stringify(n)},
            0, ${now}, ${now}
          WHERE ${condition}
          ON CONFLICT (dedup_key) DO NOTHING
          RETURNING id`.execute(this.#db);
        const id = ids[0]?.id;
        if (id !== undefined) inserted++;
        // Older undelivered rows of this alert for this notifier are now noise, unless a dispatcher holds one
        // (it finishes first: claims keep per-alert order). A resolve that is not sent supersedes its firing.
        if (id !== undefined || n.state === 'resolved') {
          await sql`UPDATE alert_outbox SET done_at = ${now}, outcome = 'superseded', lease_owner = NULL,
              lease_until = NULL
            WHERE notifier = ${row.notifier} AND fingerprint = ${n.fingerprint} AND done_at IS NULL
              AND id < ${id ?? Number.MAX_SAFE_INTEGER}
              AND (lease_until IS NULL OR lease_until < ${now})`.execute(this.#db);
        }
      }
      return inserted;
    });
  }

  claimOutbox(q: { owner: string; limit: number; leaseMs: number; nowMs: number }): Promise<OutboxRow[]> {
    return this.#guard('claimOutbox', async () => {
      const now = this.#ts(q.nowMs);
      const lock = this.#d.name === 'postgres' ? sql`FOR UPDATE SKIP LOCKED` : sql``;
      const { rows } = await sql<Selectable<AlertOutboxTable>>`
        UPDATE alert_outbox SET lease_owner = ${q.owner}, lease_until = ${this.#ts(q.nowMs + q.leaseMs)},
          attempts = attempts + 1
        WHERE id IN (
          SELECT o.id FROM alert_outbox o
          WHERE o.done_at IS NULL AND o.next_attempt_at <= ${now}
            AND (o.lease_until IS NULL OR o.lease_until < ${now})
            AND NOT EXISTS (SELECT 1 FROM alert_outbox p WHERE p.notifier = o.notifier
              AND p.fingerprint = o.fingerprint AND p.done_at IS NULL AND p.id < o.id)
          ORDER BY o.id LIMIT ${q.limit} ${lock})
        RETURNING *`.execute(this.#db);
      return rows.map(toOutboxEntry).sort((a, b) => a.id - b.id);
    });
  }

  finishOutbox(id: number, outcome: 'delivered' | 'gave_up', nowMs: number, error?: string): Promise<void> {
    return this.#guard('finishOutbox', async () => {
      await this.#db
        .updateTable('alert_outbox')
        .set({
          done_at: isoMs(nowMs),
          outcome,
          lease_owner: null,
          lease_until: null,
          last_error: error ?? null,
        })
        .where('id', '=', id)
        .where('done_at', 'is', null)
        .execute();
    });
  }

  retryOutbox(id: number, nextAttemptMs: number, error: string, nowMs: number): Promise<void> {
    return this.#guard('retryOutbox', async () => {
      const now = this.#ts(nowMs);
      await sql`UPDATE alert_outbox SET done_at = ${now}, outcome = 'superseded', lease_owner = NULL,
          lease_until = NULL, last_error = ${error}
        WHERE id = ${id} AND done_at IS NULL AND EXISTS (SELECT 1 FROM alert_outbox n
          WHERE n.notifier = alert_outbox.notifier AND n.fingerprint = alert_outbox.fingerprint AND n.id > ${id}
            AND n.done_at IS NULL)`.execute(this.#db);
      await this.#db
        .updateTable('alert_outbox')
        .set({
          next_attempt_at: isoMs(nextAttemptMs),
          lease_owner: null,
          lease_until: null,
          last_error: error,
        })
        .where('id', '=', id)
        .where('done_at', 'is', null)
        .execute();
    });
  }

  listOutbox(q: { notifier?: string; pending?: boolean; limit: number }): Promise<OutboxEntry[]> {
    return this.#guard('listOutbox', async () => {
      let query = this.#db.selectFrom('alert_outbox').selectAll().orderBy('id', 'desc').limit(q.limit);
      if (q.notifier) query = query.where('notifier', '=', q.notifier);
      if (q.pending) query = query.where('done_at', 'is', null);
      return (await query.execute()).map(toOutboxEntry);
    });
  }

  nextOutboxAttemptMs(nowMs: number): Promise<number | null> {
    return this.#guard('nextOutboxAttemptMs', async () => {
      const now = isoMs(nowMs);
      const retry = await this.#db
        .selectFrom('alert_outbox')
        .select((eb) => eb.fn.min('next_attempt_at').as('at'))
        .where('done_at', 'is', null)
        .where('lease_until', 'is', null)
        .where('next_attempt_at', '>', now)
        .executeTakeFirst();
      const lease = await this.#db
        .selectFrom('alert_outbox')
        .select((eb) => eb.fn.min('lease_until').as('at'))
        .where('done_at', 'is', null)
        .where('lease_until', '>', now)
        .executeTakeFirst();
      const times = [retry?.at, lease?.at]
        .filter((v): v is string | Date => v !== null && v !== undefined)
        .map((v) => Date.parse(iso(v)));
      return times.length === 0 ? null : Math.min(...times);
    });
  }

  createSilence(s: SilenceInput & { id: string; startsAt: string; createdAt: string }): Promise<Silence> {
    return this.#guard('createSilence', async () => {
      const row = {
        id: s.id,
        monitor: s.monitor ?? null,
        matchers: JSON.stringify(s.matchers.map((m) => m.toString())),
        targets: JSON.stringify(s.targets),
        starts_at: s.startsAt,
        ends_at: s.endsAt,
        comment: s.comment,
        created_by: s.createdBy,
        created_at: s.createdAt,
      };
      await this.#db.insertInto('silences').values(row).execute();
      return toSilence(row);
    });
  }

  getSilence(id: string): Promise<Silence | undefined> {
    return this.#guard('getSilence', async () => {
      const row = await this.#db.selectFrom('silences').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toSilence(row) : undefined;
    });
  }

  listSilences(q: { nowMs?: number } = {}): Promise<Silence[]> {
    return this.#guard('listSilences', async () => {
      let query = this.#db.selectFrom('silences').selectAll().orderBy('starts_at').orderBy('id');
      if (q.nowMs !== undefined) query = query.where('ends_at', '>', isoMs(q.nowMs));
      return (await query.execute()).map(toSilence);
    });
  }

  expireSilence(id: string, nowMs: number): Promise<boolean> {
    return this.#guard('expireSilence', async () => {
      const s = await this.#db
        .selectFrom('silences')
        .select(['starts_at', 'ends_at'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!s) return false;
      const end = Math.max(Date.parse(iso(s.starts_at)), Math.min(nowMs, Date.parse(iso(s.ends_at))));
      await this.#db
        .updateTable('silences')
        .set({ ends_at: isoMs(end) })
        .where('id', '=', id)
        .execute();
      return true;
    });
  }

  deleteAlertsOlderThan(cutoff: Date): Promise<{ alerts: number; outbox: number }> {
    return this.#guard('deleteAlertsOlderThan', async () => {
      const at = cutoff.toISOString();
      const a = await this.#db
        .deleteFrom('alerts')
        .where('state', '=', 'resolved')
        .where('ends_at', '<', at)
        .executeTakeFirst();
      const o = await this.#db.deleteFrom('alert_outbox').where('done_at', '<', at).executeTakeFirst();
      return { alerts: Number(a.numDeletedRows), outbox: Number(o.numDeletedRows) };
    });
  }
}
