import { openKyselyStore } from './kysely-store.js';
import type { OpenStoreOptions, Store } from './types.js';

export {
  DIFF_KINDS,
  type DiffChange,
  type DiffKind,
  type DiffSummary,
  type MarkInterruptedOptions,
  type OpenStoreOptions,
  RUN_STATES,
  type RunQuery,
  type RunRecord,
  type RunState,
  type Store,
  type StoredGroup,
} from './types.js';

/**
 * Opens (creating if needed) a store and applies pending migrations.
 * `url`: `postgres://...` / `postgresql://...` (PostgreSQL; `?options=-c search_path=x` selects a schema),
 * `:memory:` (SQLite, private to this process), or a file path (SQLite, WAL; `sqlite:` / `file:` prefixes allowed).
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  return openKyselyStore(url, opts);
}
