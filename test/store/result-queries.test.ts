import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/engine/result.js';
import {
  BadFilterError,
  loadFailureGroups,
  openStore,
  type Store,
  targetKey,
} from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase, newRun, result } from './store-fixtures.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

/** 300 results over 127.1.0.0-127.1.1.43: a mix of reasons, names and labels to filter on. */
function fleet(run: string): Result[] {
  return Array.from({ length: 300 }, (_, i) => {
    const r = result(run, 256 * 256 + i, 'pass', {
      name: `edge-${i}.Example.net`,
      labels: { pop: i % 2 === 0 ? 'fra' : 'ams', role: 'edge' },
    });
    if (i % 3 === 1) {
      r.status = 'fail';
      r.message = `expected 127.9.9.9, got 127.1.${i >> 8}.${i & 255}`;
      r.reason = 'expected <expected>, got <answers>';
    } else if (i % 3 === 2) {
      r.status = 'error';
      r.message = i < 150 ? 'connect ECONNREFUSED' : 'read 50%_off\\ ECONNRESET';
      r.reason = r.message;
    }
    return r;
  });
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.up)(`result queries (${dialect.name})`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    const run = newRun();

    beforeAll(async () => {
      const db = await freshDatabase(dialect.name);
      drop = db.drop;
      store = await openStore(db.url);
      await store.createRun(run);
      await store.insertResults(fleet(run.id));
    });
    afterAll(async () => {
      await store?.close();
      await drop?.();
    });

    const all = async (filter: Parameters<Store['listResults']>[1]) => {
      const out: Result[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listResults(run.id, { ...filter, limit: 37, cursor });
        out.push(...page.results);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(await store.countMatching(run.id, filter)).toBe(out.length);
      return out;
    };

    it('stores the reason and filters by message text, case-insensitive, with % _ \\ literal', async () => {
      expect((await all({ limit: 1, text: 'econnrefused' })).length).toBe(50);
      expect((await all({ limit: 1, text: '50%_off\\' })).map((r) => r.reason)).toEqual(
        Array(50).fill('read 50%_off\\ ECONNRESET'),
      );
      expect((await all({ limit: 1, text: '%' })).length).toBe(50); // only the messages holding a %
      expect((await all({ limit: 1, text: '0_o' })).length).toBe(0); // `_` is not a wildcard
    });

    it('filters by address prefix and by IPv4 CIDR (exact, on the numeric order)', async () => {
      expect((await all({ limit: 1, address: '127.1.1.' })).length).toBe(44);
      const cidr = await all({ limit: 1, address: '127.1.0.8/29' });
      expect(cidr.map((r) => r.target)).toEqual(Array.from({ length: 8 }, (_, i) => `127.1.0.${8 + i}`));
      expect((await all({ limit: 1, address: '127.1.0.0/23' })).length).toBe(300);
      expect((await all({ limit: 1, address: '127.1.1.0/24', status: 'error' })).length).toBe(15);
      await expect(store.listResults(run.id, { limit: 1, address: '127.1.0.0/33' })).rejects.toBeInstanceOf(
        BadFilterError,
      );
    });

    it('filters by name substring and by labels, combined with status and reason', async () => {
      expect((await all({ limit: 1, name: 'EDGE-29' })).map((r) => r.name).sort()).toEqual(
        ['edge-29.Example.net', ...Array.from({ length: 10 }, (_, i) => `edge-29${i}.Example.net`)].sort(),
      );
      expect((await all({ limit: 1, labels: { pop: 'fra' } })).length).toBe(150);
      expect((await all({ limit: 1, labels: { pop: 'fra', role: 'edge' }, status: 'fail' })).length).toBe(50);
      expect((await all({ limit: 1, labels: { pop: 'fr' } })).length).toBe(0); // whole values only
      expect((await all({ limit: 1, reason: 'expected <expected>, got <answers>' })).length).toBe(100);
    });

    it('groups by (status, reason), largest first; the targets of a group in address order; failure groups folded', async () => {
      const { groups, groupCount } = await store.resultGroups(run.id, {
        statuses: ['fail', 'error', 'timeout', 'cancelled'],
        limit: 10,
      });
      expect(groupCount).toBe(3);
      expect(groups.map((g) => [g.status, g.reason, g.count])).toEqual([
        ['fail', 'expected <expected>, got <answers>', 100],
        ['error', 'connect ECONNREFUSED', 50],
        ['error', 'read 50%_off\\ ECONNRESET', 50],
      ]);
      const top = await store.resultGroups(run.id, { statuses: ['fail', 'error'], limit: 1 });
      expect(top.groups).toHaveLength(1);
      expect(top.groupCount).toBe(3);
      const targets: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.groupTargets(run.id, 'error', 'connect ECONNREFUSED', { limit: 16, cursor });
        targets.push(...page.keys);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(targets).toHaveLength(50);
      expect(targets[0]).toBe(targetKey('127.1.0.2'));
      expect([...targets].sort()).toEqual(targets);
      const folded = await loadFailureGroups(store, run.id, { statuses: ['fail', 'error'], limit: 10 });
      expect(folded.groups.map((g) => [g.count, g.messagesVary, g.names.length, g.unlisted])).toEqual([
        [100, true, 100, 0],
        [50, false, 50, 0],
        [50, false, 50, 0],
      ]);
      expect(folded.groups[1]!.message).toBe('connect ECONNREFUSED');
      // Every third address from 127.1.0.2 up to 127.1.0.149: one bracket range per /24.
      expect(folded.groups[1]!.targets).toEqual([
        `127.1.0.[${Array.from({ length: 50 }, (_, i) => 2 + 3 * i).join(',')}]`,
      ]);
    });

    it('finds the previous run of the same series: same check, args and targets', async () => {
      const first = newRun({ args: { port: 81 } });
      const otherPort = newRun({ args: { port: 82 } });
      const otherTargets = newRun({ args: { port: 81 }, targets: { specs: ['127.9.0.0/24'] } });
      const second = newRun({ args: { port: 81 } });
      for (const r of [first, otherPort, otherTargets, second]) await store.createRun(r);
      expect((await store.previousRun(second.id))?.id).toBe(first.id);
      expect(await store.previousRun(first.id)).toBeUndefined();
      expect(await store.previousRun('no-such-run')).toBeUndefined();
      // Rounds of a monitor are one series even when its arguments changed between rounds.
      const r1 = newRun({ args: { port: 90 } });
      const unrelated = newRun({ args: { port: 92 } });
      const r2 = newRun({ args: { port: 91 } });
      for (const r of [r1, unrelated, r2]) await store.createRun(r);
      const round = (seq: number, runId: string) => ({
        monitor: `m-${run.id}`,
        seq,
        runId,
        state: 'done',
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        skipped: 0,
      });
      await store.monitors.saveRound(round(1, r1.id));
      await store.monitors.saveRound(round(2, r2.id));
      expect((await store.previousRun(r2.id))?.id).toBe(r1.id);
      expect(await store.previousRun(r1.id)).toBeUndefined();
      expect(await store.previousRun(unrelated.id)).toBeUndefined(); // not a round, and no earlier port 92 run
      // Runs that carry their monitor (the runs.monitor column).
      const m1 = newRun({ monitor: `mon-${run.id}`, args: { port: 93 } });
      const other = newRun({ args: { port: 93 } });
      const m2 = newRun({ monitor: `mon-${run.id}`, args: { port: 94 } });
      for (const r of [m1, other, m2]) await store.createRun(r);
      expect((await store.previousRun(m2.id))?.id).toBe(m1.id);
    });
  });
}
