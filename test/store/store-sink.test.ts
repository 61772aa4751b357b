import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyCounts, type Result } from '../../src/engine/result.js';
import { StoreWriteError, storeResults } from '../../src/sinks/store-sink.js';
import { openStore, type Store, StoreError } from '../../src/store/index.js';
import { newRun, result } from './store-fixtures.js';

async function* source(run: string, n: number, dup = false): AsyncGenerator<Result> {
  for (let i = 0; i < n; i++) {
    yield result(run, i, i % 4 === 0 ? 'fail' : 'pass');
    if (dup && i % 10 === 0) yield result(run, i, 'fail'); // a redelivered duplicate
  }
}

describe('storeResults sink', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('passes every result through in order and stores each once, counting only new rows', async () => {
    const run = newRun();
    await store.createRun(run);
    const seen: string[] = [];
    const totals = emptyCounts();
    const batches: number[] = [];
    for await (const r of storeResults(store, source(run.id, 1234, true), {
      batchSize: 100,
      onCounts: (c, b) => {
        batches.push(b.length);
        for (const k of Object.keys(c) as (keyof typeof c)[]) totals[k] += c[k];
      },
    })) {
      seen.push(r.target);
    }
    expect(seen).toHaveLength(1234 + 124);
    expect(batches.every((n) => n <= 100)).toBe(true);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(1234 + 124);
    // Duplicates were yielded but not counted or stored twice.
    expect(totals.pass + totals.fail).toBe(1234);
    expect(totals.fail).toBe(Math.ceil(1234 / 4));
    const page = await store.listResults(run.id, { limit: 5000 });
    expect(page.results).toHaveLength(1234);
  });

  it('a partial batch is written after flushMs even while the source is idle', async () => {
    const run = newRun();
    await store.createRun(run);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let written = 0;
    let onWritten!: () => void;
    const wrote = new Promise<void>((r) => {
      onWritten = r;
    });
    async function* slow(): AsyncGenerator<Result> {
      yield result(run.id, 1, 'pass');
      yield result(run.id, 2, 'pass');
      await gate; // the source goes quiet until the first write happened
      yield result(run.id, 3, 'pass');
    }
    const it = storeResults(store, slow(), {
      batchSize: 100,
      flushMs: 20,
      onCounts: (c) => {
        written += c.pass;
        onWritten();
      },
    });
    const consumed: Result[] = [];
    const consume = (async () => {
      for await (const r of it) consumed.push(r);
    })();
    await wrote;
    expect(written).toBe(2);
    release();
    await consume;
    expect(consumed).toHaveLength(3);
    expect(written).toBe(3);
  });

  it('a failing store: results still flow, onError reports the batches, the end throws StoreWriteError', async () => {
    const failing: Store = {
      ...store,
      dialect: store.dialect,
      insertResults: async () => {
        throw new StoreError('insertResults', new Error('connection refused'));
      },
    };
    const errors: number[] = [];
    const seen: Result[] = [];
    const consume = async () => {
      for await (const r of storeResults(failing, source('x', 250), {
        batchSize: 100,
        writeRetries: 1,
        onError: (_e, b) => errors.push(b.length),
      })) {
        seen.push(r);
      }
    };
    const err = await consume().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreWriteError);
    expect((err as StoreWriteError).code).toBe('FP_STORE_WRITE');
    expect((err as StoreWriteError).lost).toBe(250);
    expect((err as StoreWriteError).cause).toBeInstanceOf(StoreError);
    expect(seen).toHaveLength(250);
    expect(errors).toEqual([100, 100, 50]);
  });

  it('breaking out early waits for the write in flight and closes the source', async () => {
    const run = newRun();
    await store.createRun(run);
    let closed = false;
    async function* src(): AsyncGenerator<Result> {
      try {
        for (let i = 0; ; i++) yield result(run.id, i, 'pass');
      } finally {
        closed = true;
      }
    }
    let n = 0;
    for await (const _ of storeResults(store, src(), { batchSize: 50 })) {
      if (++n === 120) break;
    }
    expect(closed).toBe(true);
    const stored = (await store.listResults(run.id, { limit: 1000 })).results.length;
    expect(stored).toBeGreaterThanOrEqual(100);
  });
});
