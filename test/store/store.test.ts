import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCounts, type Result, type Status } from '../../src/engine/result.js';
import { CursorError, openStore, type Store, StoreError } from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase, newRun, result } from './store-fixtures.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

const statusOf = (i: number): Status => (['pass', 'pass', 'fail', 'error', 'timeout'] as const)[i % 5]!;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.up)(`store (${dialect.name})`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let url: string;

    beforeAll(async () => {
      const db = await freshDatabase(dialect.name);
      drop = db.drop;
      url = db.url;
      store = await openStore(db.url);
    });
    afterAll(async () => {
      await store?.close();
      await drop?.();
    });

    it('reports its dialect and re-opening an existing database applies no migration twice', async () => {
      expect(store.dialect).toBe(dialect.name);
      const run = newRun();
      await store.createRun(run);
      const again = await openStore(url);
      try {
        expect((await again.getRun(run.id))?.id).toBe(run.id);
      } finally {
        await again.close();
      }
    });

    it('creates, reads and updates a run with JSON fields, counts and times', async () => {
      const run = newRun({
        args: { port: 22, nested: { a: [1, 2] } },
        targets: { specs: ['127.0.0.1', '127.0.1.0/30'] },
      });
      await store.createRun(run);
      expect(await store.getRun(run.id)).toEqual(run);

      const startedAt = new Date().toISOString();
      await store.updateRun(run.id, { state: 'running', startedAt, total: 10 });
      await store.updateRun(run.id, {
        counts: { ...emptyCounts(), pass: 7, fail: 3 },
        state: 'done',
        error: 'x',
      });
      const got = await store.getRun(run.id);
      expect(got).toMatchObject({ state: 'done', startedAt, total: 10, error: 'x' });
      expect(got?.counts).toEqual({ pass: 7, fail: 3, error: 0, timeout: 0, cancelled: 0 });
      expect(await store.getRun('no-such-run')).toBeUndefined();
    });

    it('lists runs newest first, filtered by check and state, with a cursor', async () => {
      const check = `chk-${Date.now()}`;
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const run = newRun({ check, state: i % 2 === 0 ? 'done' : 'failed' });
        ids.push(run.id);
        await store.createRun(run);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listRuns({ check, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.runs.length).toBeLessThanOrEqual(3);
        seen.push(...page.runs.map((r) => r.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
      const failed = await store.listRuns({ check, state: 'failed', limit: 100 });
      expect(failed.runs.map((r) => r.id)).toEqual([ids[5], ids[3], ids[1]]);
      expect(failed.nextCursor).toBeNull();
    });

    it('insertResults is idempotent: a redelivered batch adds no row and counts zero', async () => {
      const run = newRun();
      await store.createRun(run);
      const batch = Array.from({ length: 250 }, (_, i) => result(run.id, i, statusOf(i)));
      const first = await store.insertResults(batch);
      expect(first).toEqual({ pass: 100, fail: 50, error: 50, timeout: 50, cancelled: 0 });
      const second = await store.insertResults(batch);
      expect(second).toEqual(emptyCounts());
      // A batch mixing old and new rows counts only the new ones.
      const mixed = [...batch.slice(0, 10), result(run.id, 1000, 'cancelled'), result(run.id, 1001, 'pass')];
      expect(await store.insertResults(mixed)).toEqual({ ...emptyCounts(), cancelled: 1, pass: 1 });
      const all = await store.listResults(run.id, { limit: 1000 });
      expect(all.results).toHaveLength(252);
      // Same target on another port, and a portless result, are distinct rows.
      const more: Result[] = [
        result(run.id, 0, 'fail', { port: 443 }),
        result(run.id, 0, 'pass', { port: null }),
      ];
      expect(await store.insertResults(more)).toEqual({ ...emptyCounts(), pass: 1, fail: 1 });
      const t0 = await store.listResults(run.id, { target: '127.0.0.0', limit: 10 });
      expect(t0.results.map((r) => r.port).sort()).toEqual([443, 80, null].sort());
    });

    it('round-trips a result exactly (port null, labels, data, times)', async () => {
      const run = newRun({ check: 'http' });
      await store.createRun(run);
      const r = result(run.id, 7, 'fail', {
        check: 'http',
        port: null,
        name: 'h7.sim',
        labels: { region: 'eu', role: 'edge' },
        data: { statusCode: 503, t: { ttfbMs: 3.25 } },
        durationMs: 12.125,
        attempts: 3,
        message: 'expected 2xx, got 503',
      });
      await store.insertResults([r]);
      const page = await store.listResults(run.id, { limit: 10 });
      expect(page.results).toEqual([r]);
    });

    it('pages through 2,500 results with a cursor, with and without a status filter', async () => {
      const run = newRun();
      await store.createRun(run);
      const all = Array.from({ length: 2500 }, (_, i) => result(run.id, i, statusOf(i)));
      for (let i = 0; i < all.length; i += 500) await store.insertResults(all.slice(i, i + 500));

      const collect = async (status?: Status) => {
        const out: Result[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listResults(run.id, {
            limit: 333,
            ...(status ? { status } : {}),
            ...(cursor ? { cursor } : {}),
          });
          out.push(...page.results);
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor);
        return { out, pages };
      };
      const everything = await collect();
      expect(everything.out.map((r) => r.target)).toEqual(all.map((r) => r.target));
      expect(everything.pages).toBe(Math.ceil(2500 / 333));
      const fails = await collect('fail');
      expect(fails.out).toHaveLength(500);
      expect(fails.out.every((r) => r.status === 'fail')).toBe(true);
      expect(fails.out.map((r) => r.target)).toEqual(
        all.filter((r) => r.status === 'fail').map((r) => r.target),
      );
      await expect(store.listResults(run.id, { limit: 10, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(
        CursorError,
      );
    });

    it('diffs two runs: changed, only-in-a and only-in-b targets, paged', async () => {
      const a = newRun();
      const b = newRun();
      await store.createRun(a);
      await store.createRun(b);
      const n = 40;
      await store.insertResults(Array.from({ length: n }, (_, i) => result(a.id, i, 'pass')));
      // b: targets 0..9 fail now, 10..34 unchanged, 35..39 missing, 40..42 new.
      await store.insertResults([
        ...Array.from({ length: 35 }, (_, i) => result(b.id, i, i < 10 ? 'fail' : 'pass')),
        ...[40, 41, 42].map((i) => result(b.id, i, 'timeout')),
      ]);
      const changes = [];
      let cursor: string | undefined;
      do {
        const page = await store.diffRuns(a.id, b.id, { limit: 4, ...(cursor ? { cursor } : {}) });
        changes.push(...page.changes);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(changes).toHaveLength(10 + 5 + 3);
      const byTarget = new Map(changes.map((c) => [c.target, c]));
      expect(byTarget.get(result('', 3, 'pass').target)).toEqual({
        target: '127.0.0.3',
        port: 80,
        from: 'pass',
        to: 'fail',
        fromMessage: 'connected',
        toMessage: 'refused',
      });
      expect(byTarget.get(result('', 37, 'pass').target)).toEqual({
        target: '127.0.0.37',
        port: 80,
        from: 'pass',
        to: null,
        fromMessage: 'connected',
        toMessage: null,
      });
      expect(byTarget.get(result('', 41, 'pass').target)).toEqual({
        target: '127.0.0.41',
        port: 80,
        from: null,
        to: 'timeout',
        fromMessage: null,
        toMessage: 'refused',
      });
      expect(byTarget.has('127.0.0.20')).toBe(false);
      // Addresses in numeric order (127.0.0.9 before 127.0.0.10), not as text.
      const last = (t: string) => Number(t.split('.')[3]);
      expect(changes.map((c) => last(c.target))).toEqual(
        changes.map((c) => last(c.target)).sort((x, y) => x - y),
      );
      expect(changes.map((c) => c.target).slice(0, 11)).toContain('127.0.0.9');
      expect(await store.diffSummary(a.id, b.id)).toEqual({
        regressed: 10,
        recovered: 0,
        changed: 0,
        unchanged: 25,
        added: 3,
        removed: 5,
        totalBefore: 40,
        totalNow: 38,
      });
      const regressed = await store.diffRuns(a.id, b.id, { limit: 100, change: 'regressed' });
      expect(regressed.changes.map((c) => c.target)).toEqual(
        Array.from({ length: 10 }, (_, i) => `127.0.0.${i}`),
      );
      const added = await store.diffRuns(a.id, b.id, { limit: 100, change: 'added' });
      expect(added.changes.map((c) => c.target)).toEqual(['127.0.0.40', '127.0.0.41', '127.0.0.42']);
    });

    it('markInterrupted turns queued and running runs into interrupted, and leaves finished ones', async () => {
      const running = newRun({ state: 'running', startedAt: new Date().toISOString() });
      const queued = newRun({ state: 'queued' });
      const done = newRun({ state: 'done' });
      for (const r of [running, queued, done]) await store.createRun(r);
      expect(await store.markInterrupted()).toBeGreaterThanOrEqual(2);
      const r1 = await store.getRun(running.id);
      expect(r1?.state).toBe('interrupted');
      expect(r1?.finishedAt).not.toBeNull();
      expect(r1?.error).toBeTruthy();
      expect((await store.getRun(queued.id))?.state).toBe('interrupted');
      expect((await store.getRun(done.id))?.state).toBe('done');
      expect(await store.markInterrupted()).toBe(0);
    });

    it('markInterrupted spares the runs this process resumes; countResults counts stored rows per status', async () => {
      const resumed = newRun({ state: 'running', startedAt: new Date().toISOString() });
      const dead = newRun({ state: 'running', startedAt: new Date().toISOString() });
      for (const r of [resumed, dead]) await store.createRun(r);
      await store.insertResults([
        result(resumed.id, 0, 'pass'),
        result(resumed.id, 1, 'pass'),
        result(resumed.id, 2, 'fail'),
      ]);
      expect(await store.markInterrupted({ except: [resumed.id] })).toBeGreaterThanOrEqual(1);
      expect((await store.getRun(resumed.id))?.state).toBe('running');
      expect((await store.getRun(dead.id))?.state).toBe('interrupted');
      expect(await store.countResults(resumed.id)).toEqual({
        pass: 2,
        fail: 1,
        error: 0,
        timeout: 0,
        cancelled: 0,
      });
      expect(await store.countResults(dead.id)).toEqual({
        pass: 0,
        fail: 0,
        error: 0,
        timeout: 0,
        cancelled: 0,
      });
      await store.updateRun(resumed.id, { state: 'done' });
    });

    it('retention deletes old finished runs with their results, keeps new and live ones', async () => {
      const oldAt = new Date(Date.now() - 40 * 86_400_000).toISOString();
      const old = newRun({ state: 'done', createdAt: oldAt });
      const oldLive = newRun({ state: 'done', createdAt: oldAt });
      const fresh = newRun({ state: 'done' });
      for (const r of [old, oldLive, fresh]) await store.createRun(r);
      await store.insertResults(Array.from({ length: 6000 }, (_, i) => result(old.id, i, 'pass')));
      await store.insertResults(Array.from({ length: 5 }, (_, i) => result(fresh.id, i, 'pass')));
      await store.updateRun(oldLive.id, { state: 'running' });

      const deleted = await store.deleteRunsOlderThan(new Date(Date.now() - 30 * 86_400_000));
      expect(deleted).toBe(1);
      expect(await store.getRun(old.id)).toBeUndefined();
      expect((await store.listResults(old.id, { limit: 10 })).results).toHaveLength(0);
      expect((await store.getRun(oldLive.id))?.state).toBe('running');
      expect((await store.listResults(fresh.id, { limit: 10 })).results).toHaveLength(5);
      await store.updateRun(oldLive.id, { state: 'done' });
    });

    it('fails visibly with StoreError after close', async () => {
      const db = await freshDatabase(dialect.name);
      const s = await openStore(db.url);
      await s.close();
      await expect(s.insertResults([result('x', 1, 'pass')])).rejects.toBeInstanceOf(StoreError);
      await db.drop();
    });
  });
}
