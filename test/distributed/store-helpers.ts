import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { emptyCounts, type Result } from '../../src/engine/result.js';
import { openStore, type Store } from '../../src/store/store.js';

/** A real SQLite store in a temporary directory. */
export async function tempStore(): Promise<{ store: Store; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fp-dist-'));
  const store = await openStore(join(dir, 'runs.db'));
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createRunRecord(store: Store, id: string, check: string, total: number): Promise<void> {
  await store.createRun({
    id,
    check,
    args: {},
    targets: {},
    options: { concurrency: 256, retries: 0 },
    monitor: null,
    owner: null,
    state: 'running',
    total,
    counts: emptyCounts(),
    createdAt: new Date().toISOString(),
    startedAt: new Date().toISOString(),
    finishedAt: null,
    error: null,
  });
}

/** Every stored result of a run (all pages). */
export async function allResults(store: Store, runId: string): Promise<Result[]> {
  const out: Result[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listResults(runId, { limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.results);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
}

/** Asserts the run stored `total` results, one per target (each with `status`, when given); returns them. */
export async function expectOnePerTarget(
  store: Store,
  runId: string,
  total: number,
  status?: string,
): Promise<Result[]> {
  const stored = await allResults(store, runId);
  expect(stored).toHaveLength(total);
  expect(new Set(stored.map((r) => r.target)).size).toBe(total);
  if (status) expect(stored.filter((r) => r.status !== status)).toEqual([]);
  return stored;
}
