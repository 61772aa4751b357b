import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { maskMessage } from '../engine/reason.js';
import { alertsMigration } from './alerts-migration.js';
import type { StoreDialect } from './dialect.js';
import { StoreError } from './errors.js';
import { monitorsMigration } from './monitor-migration.js';
import type { Database } from './schema.js';
import { targetKey } from './target-key.js';

const BACKFILL_CHUNK = 5000;

/** The schema history, in code (no migration files to ship). Names sort in application order. */
function migrations(d: StoreDialect): Record<string, Migration> {
  return {
    // Kysely applies migrations in name order, not in the order written here.
    '0003_monitors': monitorsMigration(d),
    '0001_runs_results': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('runs')
          .addColumn('seq', d.autoIdType, (c) => d.autoId(c))
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('check', 'text', (c) => c.notNull())
          .addColumn('args', 'text', (c) => c.notNull())
          .addColumn('targets', 'text', (c) => c.notNull())
          .addColumn('options', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('total', 'integer')
          .addColumn('n_pass', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('n_fail', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('n_error', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('n_timeout', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('n_cancelled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', d.timestampType, (c) => c.notNull())
          .addColumn('started_at', d.timestampType)
          .addColumn('finished_at', d.timestampType)
          .addColumn('error', 'text')
          .execute();
        await db.schema.createIndex('runs_check_seq').on('runs').columns(['check', 'seq']).execute();
        await db.schema.createIndex('runs_state_seq').on('runs').columns(['state', 'seq']).execute();
        await db.schema.createIndex('runs_created_at').on('runs').column('created_at').execute();

        await db.schema
          .createTable('results')
          .addColumn('id', d.autoIdType, (c) => d.autoId(c))
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('port', 'integer', (c) => c.notNull())
          .addColumn('name', 'text')
          .addColumn('labels', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('duration_ms', d.floatType, (c) => c.notNull())
          .addColumn('started_at', d.timestampType, (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .addUniqueConstraint('results_run_target_port', ['run_id', 'target', 'port'])
          .execute();
        // Status pages: WHERE run_id = ? AND status = ? AND id > ? ORDER BY id.
        await db.schema
          .createIndex('results_run_status_id')
          .on('results')
          .columns(['run_id', 'status', 'id'])
          .execute();
        // Unfiltered pages and retention deletes.
        await db.schema.createIndex('results_run_id').on('results').columns(['run_id', 'id']).execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('results').execute();
        await db.schema.dropTable('runs').execute();
      },
    },
    '0002_run_leases': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('runs').addColumn('monitor', 'text').execute();
        await db.schema.alterTable('runs').addColumn('owner', 'text').execute();
        // The rounds of one monitor, newest first.
        await db.schema.createIndex('runs_monitor_seq').on('runs').columns(['monitor', 'seq']).execute();
        await db.schema
          .createTable('run_owners')
          .addColumn('owner', 'text', (c) => c.primaryKey())
          .addColumn('expires_ms', 'bigint', (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('run_owners').execute();
        await db.schema.dropIndex('runs_monitor_seq').execute();
        await db.schema.alterTable('runs').dropColumn('owner').execute();
        await db.schema.alterTable('runs').dropColumn('monitor').execute();
      },
    },
    '0004_result_reason': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('results')
          .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
          .execute();
        await db.schema
          .alterTable('results')
          .addColumn('target_key', 'text', (c) => c.notNull().defaultTo(''))
          .execute();
        await backfillReasonAndKey(db as Kysely<Database>);
        // Failure groups: GROUP BY status, reason within a run, and each group's targets in address order,
        // from the index alone (no table lookups: 80k failing targets fold in tens of ms, not a second).
        await db.schema
          .createIndex('results_run_status_reason')
          .on('results')
          .columns(['run_id', 'status', 'reason', 'target_key', 'port'])
          .execute();
        // Results and diffs in address order; CIDR filters as key ranges.
        await db.schema
          .createIndex('results_run_target_key')
          .on('results')
          .columns(['run_id', 'target_key', 'port'])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex('results_run_target_key').execute();
        await db.schema.dropIndex('results_run_status_reason').execute();
        await db.schema.alterTable('results').dropColumn('target_key').execute();
        await db.schema.alterTable('results').dropColumn('reason').execute();
      },
    },
    '0005_alerts': alertsMigration(d),
    '0006_run_cache': {
      // A finished run's failure groups and match totals, so a 250,000-result run's page does not GROUP BY and
      // COUNT its rows again on every view. Rows go with the run's results (retention, pruned rounds).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('run_cache')
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('run_cache_pk', ['run_id', 'key'])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('run_cache').execute();
      },
    },
  };
}

/** Rows older than 0004 get the reason and key the code computes today, in chunks of ids. */
async function backfillReasonAndKey(db: Kysely<Database>): Promise<void> {
  let after: number | string = 0;
  for (;;) {
    const rows = await db
      .selectFrom('results')
      .select(['id', 'target', 'message'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(BACKFILL_CHUNK)
      .execute();
    if (rows.length === 0) return;
    for (const r of rows) {
      await db
        .updateTable('results')
        .set({ reason: maskMessage(r.message), target_key: targetKey(r.target) })
        .where('id', '=', r.id)
        .execute();
    }
    after = rows[rows.length - 1]!.id;
  }
}

/** Applies every pending migration; throws StoreError naming the migration that failed. */
export async function migrate(d: StoreDialect, db: Kysely<Database> = d.db): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(d) };
  // kysely's PostgreSQL introspection sees tables in every schema: name ours explicitly, or a second schema
  // in the same database (tests, several deployments) would think its migration tables already exist.
  let schema: string | undefined;
  if (d.name === 'postgres') {
    const { rows } = await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db);
    schema = rows[0]?.s;
  }
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'fleetprobe_migrations',
    migrationLockTableName: 'fleetprobe_migrations_lock',
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new StoreError(`migrate (${failed})`, error);
  }
}
