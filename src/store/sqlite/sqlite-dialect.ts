import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Status } from '../../engine/result.js';
import type { StoreDialect, UpsertSpec } from '../dialect.js';
import type { Database, ResultRow } from '../schema.js';

const COLUMNS = [
  'run_id',
  'target',
  'port',
  'name',
  'labels',
  'status',
  'duration_ms',
  'started_at',
  'attempts',
  'message',
  'reason',
  'target_key',
  'data',
] as const;
/** Rows per INSERT statement: 100 x 13 parameters stays far below SQLite's 32,766-variable limit. */
const ROWS_PER_STATEMENT = 100;

/**
 * SQLite through better-sqlite3 (synchronous, in-process). WAL journal, synchronous=NORMAL (durable across
 * a process crash, may lose the last transactions on power loss), busy_timeout 5 s for a second process.
 * The hot path bypasses kysely: cached prepared multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING status`
 * statements inside one transaction per batch. Trap: the kysely instance and the raw handle share one
 * connection, so this dialect never holds a kysely transaction open across awaits (only migrations do, before
 * any insert).
 */
export function createSqliteDialect(path: string): StoreDialect {
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });

  const statements = new Map<number, BetterSqlite3.Statement>();
  const statementFor = (rows: number): BetterSqlite3.Statement => {
    let stmt = statements.get(rows);
    if (!stmt) {
      const tuple = `(${COLUMNS.map(() => '?').join(',')})`;
      stmt = raw.prepare(
        `INSERT INTO results (${COLUMNS.join(',')}) VALUES ${Array.from({ length: rows }, () => tuple).join(',')}` +
          ' ON CONFLICT (run_id, target, port) DO NOTHING RETURNING status',
      );
      stmt.pluck(); // RETURNING rows as bare values: no object per inserted row
      statements.set(rows, stmt);
    }
    return stmt;
  };
  const insertAll = raw.transaction((rows: readonly ResultRow[]): Status[] => {
    const inserted: Status[] = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
      const params: unknown[] = new Array(chunk.length * COLUMNS.length);
      let k = 0;
      for (const row of chunk) for (const c of COLUMNS) params[k++] = row[c];
      for (const status of statementFor(chunk.length).all(params) as Status[]) inserted.push(status);
    }
    return inserted;
  });

  // Upserts: one cached statement per (spec, rows per statement), SQLite's 32,766-variable limit respected.
  const upsertStatements = new Map<string, BetterSqlite3.Statement>();
  const upsertStatement = (spec: UpsertSpec, rows: number): BetterSqlite3.Statement => {
    const key = `${spec.table}|${spec.update}|${rows}`;
    let stmt = upsertStatements.get(key);
    if (!stmt) {
      const tuple = `(${spec.columns.map(() => '?').join(',')})`;
      stmt = raw.prepare(
        `INSERT INTO ${spec.table} (${spec.columns.join(',')}) VALUES ${Array.from({ length: rows }, () => tuple).join(',')}` +
          ` ON CONFLICT (${spec.conflict.join(',')}) DO UPDATE SET ${spec.update}`,
      );
      upsertStatements.set(key, stmt);
    }
    return stmt;
  };
  const upsertAll = raw.transaction((spec: UpsertSpec, rows: readonly (readonly unknown[])[]) => {
    const per = Math.min(500, Math.floor(32_766 / spec.columns.length));
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      const params: unknown[] = [];
      for (const row of chunk) for (const v of row) params.push(v);
      upsertStatement(spec, chunk.length).run(params);
    }
  });

  return {
    name: 'sqlite',
    db,
    autoIdType: 'integer',
    autoId: (col) => col.primaryKey().autoIncrement(),
    timestampType: 'text',
    floatType: 'real',
    likeOperator: 'like',
    insertResultRows: async (rows) => (rows.length === 0 ? [] : insertAll(rows)),
    upsertRows: async (spec, rows) => {
      if (rows.length > 0) upsertAll(spec, rows);
    },
    close: async () => {
      await db.destroy(); // closes `raw` too
    },
  };
}
