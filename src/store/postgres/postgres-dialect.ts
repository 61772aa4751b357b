import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Status } from '../../engine/result.js';
import type { StoreDialect, UpsertSpec } from '../dialect.js';
import type { Database, ResultRow } from '../schema.js';

export interface PostgresDialectOptions {
  /** Most pooled connections (default 10). */
  maxConnections?: number;
  /** How long a query waits for a connection before failing, in ms (default 5000): a dead server fails writes, it does not hang them. */
  connectTimeoutMs?: number;
  log?: Logger;
}

/**
 * PostgreSQL through a `pg` Pool. A pool error (an idle connection dropped by a server restart) is logged,
 * never thrown: the process survives, queries on the dead connections fail visibly (StoreError upstream) and
 * later queries get fresh connections once the server is back. The hot path inserts a batch with one
 * statement of 13 array parameters (`unnest`), whatever the batch size.
 * `search_path` can be set with the URL's `?options=-c search_path=...` parameter.
 */
export function createPostgresDialect(url: string, opts: PostgresDialectOptions = {}): StoreDialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.maxConnections ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (err) => {
    opts.log?.warn({ err }, 'postgres pool: idle connection failed (server restart?)');
  });
  // A connection can die while checked out (between being handed out and its query being sent, or while a
  // query runs): pg then emits 'error' on the client, which the pool only listens to while it is idle. The
  // query itself rejects (-> StoreError) and the pool discards the client on release; this listener only keeps
  // the event from becoming an uncaught exception that would kill the process.
  pool.on('connect', (client) => {
    client.on('error', (err) => opts.log?.debug({ err }, 'postgres connection failed while in use'));
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  // Fresh statistics matter: on a table that grew by a whole run since autovacuum last looked, the planner
  // estimates a handful of rows for (run_id, status) and picks a bitmap scan + sort of every matching row
  // (~30 ms for 25,000 fails) instead of the ordered index scan (~0.1 ms). So this process ANALYZEs the
  // results table itself after 10k, 20k, 40k... rows it inserted (cheap: ANALYZE samples), one at a time,
  // in the background; close() waits for it. A failed ANALYZE is only logged.
  let inserted = 0;
  let analyzeAt = 10_000;
  let analyzing: Promise<void> | undefined;
  const maybeAnalyze = () => {
    if (inserted < analyzeAt || analyzing) return;
    analyzeAt = inserted * 2;
    analyzing = sql`ANALYZE results`
      .execute(db)
      .then(
        () => {},
        (err: unknown) => opts.log?.warn({ err }, 'ANALYZE results failed'),
      )
      .finally(() => {
        analyzing = undefined;
      });
  };

  return {
    name: 'postgres',
    db,
    autoIdType: 'bigserial',
    autoId: (col) => col.primaryKey(),
    timestampType: 'timestamptz',
    floatType: 'double precision',
    likeOperator: 'ilike',
    async insertResultRows(rows: readonly ResultRow[]): Promise<Status[]> {
      if (rows.length === 0) return [];
      const col = <K extends keyof ResultRow>(k: K): ResultRow[K][] => rows.map((r) => r[k]);
      const { rows: statuses } = await sql<{ status: Status }>`
        INSERT INTO results (run_id, target, port, name, labels, status, duration_ms, started_at, attempts, message,
          reason, target_key, data)
        SELECT * FROM unnest(
          ${col('run_id')}::text[], ${col('target')}::text[], ${col('port')}::int[], ${col('name')}::text[],
          ${col('labels')}::text[], ${col('status')}::text[], ${col('duration_ms')}::float8[],
          ${col('started_at')}::timestamptz[], ${col('attempts')}::int[], ${col('message')}::text[],
          ${col('reason')}::text[], ${col('target_key')}::text[], ${col('data')}::text[])
        ON CONFLICT (run_id, target, port) DO NOTHING
        RETURNING status`.execute(db);
      inserted += statuses.length;
      maybeAnalyze();
      return statuses.map((r) => r.status);
    },
    async upsertRows(spec: UpsertSpec, rows: readonly (readonly unknown[])[]): Promise<void> {
      if (rows.length === 0) return;
      const arrays = spec.columns.map((_, c) => rows.map((r) => r[c]));
      const unnest = sql.join(arrays.map((a, c) => sql`${a}::${sql.raw(spec.pgTypes[c]!)}[]`));
      await sql`INSERT INTO ${sql.raw(spec.table)} (${sql.raw(spec.columns.join(','))})
        SELECT * FROM unnest(${unnest})
        ON CONFLICT (${sql.raw(spec.conflict.join(','))}) DO UPDATE SET ${sql.raw(spec.update)}`.execute(db);
    },
    close: async () => {
      await analyzing;
      await db.destroy(); // ends the pool
    },
  };
}
