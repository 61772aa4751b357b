import type { Result } from '../../engine/result.js';

/**
 * One document for the search index: any stream (results, monitor transitions) is mapped to these.
 * `id` must be deterministic: the same fact always gets the same id, so a retried or redelivered
 * document is recognised by the index (it is created once; a second `create` answers 409, counted
 * as a duplicate) instead of being stored twice.
 */
export interface SearchDocument {
  readonly id: string;
  /** ISO-8601 (or epoch ms): dates the index (`YYYY.MM.DD` in the pattern, UTC). */
  readonly timestamp: string | number;
  /** The document as indexed; should carry `@timestamp`. */
  readonly body: Record<string, unknown>;
}

/**
 * A result as a search document. Id: run, target and port (the store's key for a result, so a redelivered
 * result maps to the same document). The check's observations go under `data.<check>` instead of `data`:
 * checks use the same field names with different types (one's `data.status` a number, another's a string),
 * and one dynamic mapping per index would reject every document of the second kind.
 */
export function resultDocument(result: Result): SearchDocument {
  return {
    id: `${result.run}/${result.target}/${result.port ?? '-'}`,
    timestamp: result.startedAt,
    body: { '@timestamp': result.startedAt, ...result, data: { [result.check]: result.data } },
  };
}
