import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase, newRun, result } from './store-fixtures.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

/** Time is the subject here: every lease check is given an explicit clock (`nowMs`), nothing sleeps. */
const T0 = 1_900_000_000_000;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.up)(`run ownership in the store (${dialect.name})`, () => {
    let store: Store;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const db = await freshDatabase(dialect.name);
      drop = db.drop;
      store = await openStore(db.url);
    });
    afterAll(async () => {
      await store?.close();
      await drop?.();
    });

    it('leaves the runs of a live owner alone and takes over those whose lease expired, reconciling counters', async () => {
      await store.putLease('live-owner', T0 + 10_000);
      await store.putLease('dead-owner', T0 + 1_000);
      const live = newRun({ state: 'running', owner: 'live-owner', startedAt: new Date(T0).toISOString() });
      // Counters written by the dead process lag behind what it stored.
      const dead = newRun({
        state: 'running',
        owner: 'dead-owner',
        counts: { pass: 1, fail: 0, error: 0, timeout: 0, cancelled: 0 },
      });
      const ownerless = newRun({ state: 'queued' });
      for (const r of [live, dead, ownerless]) await store.createRun(r);
      await store.insertResults([
        result(dead.id, 0, 'pass'),
        result(dead.id, 1, 'pass'),
        result(dead.id, 2, 'fail'),
        result(live.id, 0, 'pass'),
      ]);

      // Before the dead owner's lease runs out, only the run without an owner is taken over.
      expect(await store.markInterrupted({ nowMs: T0 + 500 })).toBe(1);
      expect((await store.getRun(ownerless.id))?.state).toBe('interrupted');
      expect((await store.getRun(dead.id))?.state).toBe('running');

      expect(await store.markInterrupted({ nowMs: T0 + 2_000 })).toBe(1);
      const got = await store.getRun(dead.id);
      expect(got?.state).toBe('interrupted');
      expect(got?.error).toMatch(/ended before the run finished/);
      expect(got?.counts).toEqual({ pass: 2, fail: 1, error: 0, timeout: 0, cancelled: 0 });
      expect((await store.getRun(live.id))?.state).toBe('running');

      // A heartbeat renews the lease; past it, the live owner's run goes too.
      await store.putLease('live-owner', T0 + 20_000);
      expect(await store.markInterrupted({ nowMs: T0 + 15_000 })).toBe(0);
      expect(await store.markInterrupted({ nowMs: T0 + 25_000 })).toBe(1);
      expect((await store.getRun(live.id))?.counts.pass).toBe(1);
    });

    it('a dropped lease (clean stop) is the same as an expired one; finished runs are never touched', async () => {
      await store.putLease('stopped', T0 + 60_000);
      const running = newRun({ state: 'running', owner: 'stopped' });
      const done = newRun({ state: 'done', owner: 'stopped' });
      for (const r of [running, done]) await store.createRun(r);
      expect(await store.markInterrupted({ nowMs: T0 })).toBe(0);
      await store.dropLease('stopped');
      expect(await store.markInterrupted({ nowMs: T0 })).toBe(1);
      expect((await store.getRun(running.id))?.state).toBe('interrupted');
      expect((await store.getRun(done.id))?.state).toBe('done');
    });

    it('stores the monitor of a run and lists the rounds of one monitor', async () => {
      const monitor = `mon-${Date.now()}`;
      const rounds = [newRun({ monitor }), newRun({ monitor }), newRun({ monitor: 'other' }), newRun()];
      for (const r of rounds) await store.createRun(r);
      const page = await store.listRuns({ monitor, limit: 10 });
      expect(page.runs.map((r) => r.id)).toEqual([rounds[1]!.id, rounds[0]!.id]);
      expect(page.runs.every((r) => r.monitor === monitor)).toBe(true);
      expect((await store.getRun(rounds[3]!.id))?.monitor).toBeNull();
    });

    it('reads typed options, including records written with the old `rate` field', async () => {
      const old = newRun({ options: { concurrency: 8, retries: 1, rate: 50, files: ['x'] } as never });
      await store.createRun(old);
      expect((await store.getRun(old.id))?.options).toEqual({ concurrency: 8, retries: 1, ratePerSec: 50 });
      const fresh = newRun({ options: { concurrency: 4, retries: 0, timeoutMs: 1500, ratePerSec: 10 } });
      await store.createRun(fresh);
      expect((await store.getRun(fresh.id))?.options).toEqual(fresh.options);
    });
  });
}
