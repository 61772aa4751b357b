import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { cachedForFinishedRun, runCacheKey } from '../../src/store/run-cache.js';
import { POSTGRES_URL, requireService } from '../helpers/services.js';
import { freshDatabase, newRun, result } from './store-fixtures.js';

const pgUp = await requireService('PostgreSQL', Number(new URL(POSTGRES_URL).port || 5432));

describe.each([
  ['sqlite' as const, true],
  ['postgres' as const, pgUp],
])('run cache (%s)', (dialect, up) => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    if (!up) return;
    const db = await freshDatabase(dialect);
    drop = db.drop;
    store = await openStore(db.url);
  });
  afterAll(async () => {
    await store?.close();
    await drop?.();
  });

  it.skipIf(!up)(
    'computes a finished run once, a live run every time, again when the run changes',
    async () => {
      const run = newRun({ state: 'running' });
      await store.createRun(run);
      let calls = 0;
      const compute = async () => ({ n: ++calls });
      const key = runCacheKey('total', { status: 'fail' });
      expect(await cachedForFinishedRun(store, run, key, compute)).toEqual({ n: 1 });
      expect(await cachedForFinishedRun(store, run, key, compute)).toEqual({ n: 2 }); // live: never kept

      const done = { ...run, state: 'done' as const, finishedAt: new Date().toISOString() };
      expect(await cachedForFinishedRun(store, done, key, compute)).toEqual({ n: 3 });
      expect(await cachedForFinishedRun(store, done, key, compute)).toEqual({ n: 3 }); // read back
      expect(await cachedForFinishedRun(store, done, runCacheKey('total', {}), compute)).toEqual({ n: 4 });

      // Marked interrupted with recomputed counters: a new fingerprint, computed again.
      const recounted = { ...done, counts: { ...done.counts, fail: 7 } };
      expect(await cachedForFinishedRun(store, recounted, key, compute)).toEqual({ n: 5 });
      expect(await cachedForFinishedRun(store, recounted, key, compute)).toEqual({ n: 5 });
    },
  );

  it.skipIf(!up)('goes with the run when retention deletes it', async () => {
    const run = newRun({ state: 'done', createdAt: '2020-01-01T00:00:00.000Z' });
    await store.createRun(run);
    await store.insertResults([result(run.id, 1, 'fail')]);
    await store.putRunCache(run.id, 'k', 'f', '1');
    expect(await store.getRunCache(run.id, 'k')).toEqual({ fingerprint: 'f', body: '1' });
    await store.deleteRunsOlderThan(new Date('2021-01-01T00:00:00Z'));
    expect(await store.getRunCache(run.id, 'k')).toBeUndefined();
  });
});
