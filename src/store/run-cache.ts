import { createHash } from 'node:crypto';
import type { RunRecord, Store } from './types.js';

/** States in which a run's results may still change. */
const LIVE_STATES: readonly string[] = ['queued', 'running'];

/**
 * What a finished run's results were when a value was derived from them: its state, counters and end. A
 * run whose results change afterwards (counters recomputed when it is marked interrupted) gets a new one.
 */
function fingerprintOf(run: RunRecord): string {
  return JSON.stringify([run.state, run.counts, run.finishedAt]);
}

/** A cache key of bounded length for a query: `kind:` and a digest of its parameters. */
export function runCacheKey(kind: string, params: unknown): string {
  return `${kind}:${createHash('sha256').update(JSON.stringify(params)).digest('base64url')}`;
}

/**
 * `compute()`, computed once per finished run and `key` and kept in the store (table run_cache): a
 * 250,000-result run's failure groups or a filter's match total are read back as one row instead of being
 * counted again from every result on each view. A live run (queued, running) is always computed: its
 * results still change. The value must be JSON.
 */
export async function cachedForFinishedRun<T>(
  store: Store,
  run: RunRecord,
  key: string,
  compute: () => Promise<T>,
): Promise<T> {
  if (LIVE_STATES.includes(run.state)) return compute();
  const fingerprint = fingerprintOf(run);
  const hit = await store.getRunCache(run.id, key);
  if (hit && hit.fingerprint === fingerprint) return JSON.parse(hit.body) as T;
  const value = await compute();
  await store.putRunCache(run.id, key, fingerprint, JSON.stringify(value));
  return value;
}
