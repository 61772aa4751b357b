import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from './dialect.js';

/**
 * 0005_alerts: alert history (one row per alert instance: fingerprint + startsAt), the delivery outbox and
 * silences. Times are ISO text (SQLite) or timestamptz (PostgreSQL), as everywhere in the store.
 */
export function alertsMigration(d: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('alerts')
        .addColumn('id', d.autoIdType, (c) => d.autoId(c))
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('monitor', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('annotations', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('starts_at', d.timestampType, (c) => c.notNull())
        .addColumn('ends_at', d.timestampType)
        .addColumn('silenced_by', 'text')
        .addColumn('inhibited_by', 'text')
        .addColumn('updated_at', d.timestampType, (c) => c.notNull())
        .addUniqueConstraint('alerts_fingerprint_starts', ['fingerprint', 'starts_at'])
        .execute();
      await db.schema.createIndex('alerts_state_id').on('alerts').columns(['state', 'id']).execute();
      await db.schema
        .createIndex('alerts_monitor_state')
        .on('alerts')
        .columns(['monitor', 'state'])
        .execute();

      await db.schema
        .createTable('alert_outbox')
        .addColumn('id', d.autoIdType, (c) => d.autoId(c))
        .addColumn('notifier', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('starts_at', d.timestampType, (c) => c.notNull())
        .addColumn('alert_state', 'text', (c) => c.notNull())
        .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', d.timestampType, (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', d.timestampType)
        .addColumn('done_at', d.timestampType)
        .addColumn('outcome', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', d.timestampType, (c) => c.notNull())
        .execute();
      // Claims: undone rows due, in id order; per (notifier, fingerprint) ordering and superseding.
      await db.schema
        .createIndex('alert_outbox_due')
        .on('alert_outbox')
        .columns(['done_at', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('alert_outbox_alert')
        .on('alert_outbox')
        .columns(['notifier', 'fingerprint', 'id'])
        .execute();

      await db.schema
        .createTable('silences')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('monitor', 'text')
        .addColumn('matchers', 'text', (c) => c.notNull())
        .addColumn('targets', 'text', (c) => c.notNull())
        .addColumn('starts_at', d.timestampType, (c) => c.notNull())
        .addColumn('ends_at', d.timestampType, (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', d.timestampType, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('silences_ends_at').on('silences').column('ends_at').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('silences').execute();
      await db.schema.dropTable('alert_outbox').execute();
      await db.schema.dropTable('alerts').execute();
    },
  };
}
