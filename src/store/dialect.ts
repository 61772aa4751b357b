import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { Status } from '../engine/result.js';
import type { Database, ResultRow } from './schema.js';

/**
 * What differs between SQLite and PostgreSQL, behind one small interface: the kysely instance (its
 * `Dialect`), a few column types for migrations, and the hot path (bulk insert that ignores duplicates).
 * Everything else is plain kysely and shared.
 */
export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres';
  readonly db: Kysely<Database>;
  /** Column type of an auto-incrementing integer primary key. */
  readonly autoIdType: 'integer' | 'bigserial';
  /** Extra modifiers for the auto-id column (SQLite: AUTOINCREMENT so ids are never reused after deletes). */
  autoId(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Column type of a point in time (ISO text in SQLite, timestamptz in PostgreSQL). */
  readonly timestampType: 'text' | 'timestamptz';
  /** The case-insensitive LIKE operator (SQLite's LIKE already is; PostgreSQL needs ILIKE). */
  readonly likeOperator: 'like' | 'ilike';
  /** Column type of a double-precision number. */
  readonly floatType: 'real' | 'double precision';
  /**
   * Inserts rows, skipping those whose (run_id, target, port) exists, in one transaction.
   * Returns the statuses of the rows actually inserted (duplicates are not returned).
   */
  insertResultRows(rows: readonly ResultRow[]): Promise<Status[]>;
  /**
   * Bulk upsert: `INSERT INTO table (columns) ... ON CONFLICT (conflict) DO UPDATE SET update` over `rows`
   * (one array of values per row, in `columns` order), in one transaction per call. SQLite: cached prepared
   * multi-row statements; PostgreSQL: one statement over `unnest` of array parameters. Rows of one call must
   * not repeat a conflict key (PostgreSQL refuses to update a row twice in one statement).
   */
  upsertRows(spec: UpsertSpec, rows: readonly (readonly unknown[])[]): Promise<void>;
  /** Releases connections / closes the file. */
  close(): Promise<void>;
}

/** The shape of a bulk upsert (`StoreDialect.upsertRows`); build one per table, once. */
export interface UpsertSpec {
  readonly table: string;
  readonly columns: readonly string[];
  /** PostgreSQL array element type per column (`text`, `int`, `bigint`, `float8`, `timestamptz`). */
  readonly pgTypes: readonly string[];
  readonly conflict: readonly string[];
  /** The `DO UPDATE SET` list; may refer to `excluded.<col>` and `<table>.<col>`. Trusted SQL, never user input. */
  readonly update: string;
}
