import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from './dialect.js';

/** Latency histogram bucket columns of `monitor_rollups` (one per LATENCY_BOUNDS_MS bucket, src/model/latency-histogram.ts). */
export const ROLLUP_BUCKET_COLUMNS = [
  'b0',
  'b1',
  'b2',
  'b3',
  'b4',
  'b5',
  'b6',
  'b7',
  'b8',
  'b9',
  'b10',
  'b11',
  'b12',
  'b13',
] as const;

/** '0003_monitors': API-defined monitors, per-target state, transitions, hourly rollups, the rounds of each monitor. */
export function monitorsMigration(d: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('monitors')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', d.timestampType, (c) => c.notNull())
        .addColumn('updated_at', d.timestampType, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('monitor_targets')
        .addColumn('monitor', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('machine', 'bigint', (c) => c.notNull())
        .addColumn('streak', 'integer', (c) => c.notNull())
        .addColumn('since', d.timestampType, (c) => c.notNull())
        .addColumn('last_at', d.timestampType)
        .addColumn('last_status', 'text')
        .addColumn('last_run', 'text')
        .addPrimaryKeyConstraint('monitor_targets_pk', ['monitor', 'target', 'port'])
        .execute();
      // Pages filtered by state: WHERE monitor = ? AND state = ? AND (target, port) > cursor ORDER BY target, port.
      await db.schema
        .createIndex('monitor_targets_state')
        .on('monitor_targets')
        .columns(['monitor', 'state', 'target', 'port'])
        .execute();

      await db.schema
        .createTable('monitor_transitions')
        .addColumn('id', d.autoIdType, (c) => d.autoId(c))
        .addColumn('monitor', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('at', d.timestampType, (c) => c.notNull())
        .addColumn('from_state', 'text', (c) => c.notNull())
        .addColumn('to_state', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('monitor_transitions_monitor_at')
        .on('monitor_transitions')
        .columns(['monitor', 'at', 'id'])
        .execute();
      await db.schema
        .createIndex('monitor_transitions_target')
        .on('monitor_transitions')
        .columns(['monitor', 'target', 'port', 'at'])
        .execute();
      await db.schema.createIndex('monitor_transitions_at').on('monitor_transitions').column('at').execute();

      let rollups = db.schema
        .createTable('monitor_rollups')
        .addColumn('monitor', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('hour', d.timestampType, (c) => c.notNull())
        .addColumn('n_pass', 'integer', (c) => c.notNull())
        .addColumn('n_fail', 'integer', (c) => c.notNull())
        .addColumn('n_error', 'integer', (c) => c.notNull())
        .addColumn('n_timeout', 'integer', (c) => c.notNull())
        .addColumn('lat_n', 'integer', (c) => c.notNull())
        .addColumn('lat_min', d.floatType)
        .addColumn('lat_sum', d.floatType, (c) => c.notNull())
        .addColumn('lat_max', d.floatType);
      for (const b of ROLLUP_BUCKET_COLUMNS) rollups = rollups.addColumn(b, 'integer', (c) => c.notNull());
      await rollups
        .addPrimaryKeyConstraint('monitor_rollups_pk', ['monitor', 'target', 'port', 'hour'])
        .execute();
      // Retention deletes by hour.
      await db.schema.createIndex('monitor_rollups_hour').on('monitor_rollups').column('hour').execute();

      await db.schema
        .createTable('monitor_rounds')
        .addColumn('monitor', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('started_at', d.timestampType, (c) => c.notNull())
        .addColumn('finished_at', d.timestampType)
        .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('pruned', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('monitor_rounds_pk', ['monitor', 'seq'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of [
        'monitor_rounds',
        'monitor_rollups',
        'monitor_transitions',
        'monitor_targets',
        'monitors',
      ]) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}
