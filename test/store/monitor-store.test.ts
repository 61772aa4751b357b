import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MonitorSpec } from '../../src/model/monitor-spec.js';
import {
  CursorError,
  type MonitorTargetRecord,
  openStore,
  type RollupRecord,
  type Store,
} from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase, newRun, result } from './store-fixtures.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

const spec = (name: string, over: Partial<MonitorSpec> = {}): MonitorSpec => ({
  name,
  check: 'tcp',
  args: { port: 80 },
  inventory: { targets: ['127.0.0.0/24'] },
  intervalMs: 60_000,
  labels: { team: 'edge' },
  downAfter: 2,
  upAfter: 1,
  paused: false,
  source: 'api',
  ...over,
});

const ip = (i: number) => `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function stateRow(monitor: string, i: number, over: Partial<MonitorTargetRecord> = {}): MonitorTargetRecord {
  return {
    monitor,
    target: ip(i),
    port: 80,
    name: null,
    labels: { region: i % 2 === 0 ? 'eu' : 'us', 'app.kubernetes.io/name': `a${i % 3}` },
    state: i % 10 === 0 ? 'DOWN' : 'UP',
    machine: 0x100000 + i,
    streak: 1,
    since: '2026-01-01T00:00:00.000Z',
    lastAt: '2026-01-01T00:01:00.000Z',
    lastStatus: i % 10 === 0 ? 'fail' : 'pass',
    lastRun: 'r1',
    ...over,
  };
}

function rollup(
  monitor: string,
  target: string,
  hour: string,
  over: Partial<RollupRecord> = {},
): RollupRecord {
  const buckets = new Array<number>(14).fill(0);
  buckets[2] = 10; // 10 samples in (2, 5] ms
  return {
    monitor,
    target,
    port: 80,
    hour,
    pass: 9,
    fail: 1,
    error: 0,
    timeout: 0,
    latN: 10,
    latMinMs: 3,
    latSumMs: 40,
    latMaxMs: 5,
    buckets,
    ...over,
  };
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.up)(`monitor store (${dialect.name})`, () => {
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

    it('stores API-defined monitors: save, replace, pause, list, delete', async () => {
      const m = store.monitors;
      await m.saveMonitor(spec('web'));
      await m.saveMonitor(spec('api', { intervalMs: 30_000 }));
      await m.saveMonitor(spec('web', { intervalMs: 300_000 }));
      expect((await m.listMonitors()).map((x) => [x.spec.name, x.spec.intervalMs])).toEqual([
        ['api', 30_000],
        ['web', 300_000],
      ]);
      expect(await m.setMonitorPaused('web', true)).toBe(true);
      expect(await m.setMonitorPaused('nope', true)).toBe(false);
      const web = await m.getMonitor('web');
      expect(web).toMatchObject({ paused: true, spec: { paused: true, labels: { team: 'edge' } } });
      expect(await m.deleteMonitor('web')).toBe(true);
      expect(await m.deleteMonitor('web')).toBe(false);
      expect(await m.getMonitor('web')).toBeUndefined();
    });

    it('bulk-upserts 3,000 target states, pages them by cursor, filters by state and by labels', async () => {
      const m = store.monitors;
      const rows = Array.from({ length: 3000 }, (_, i) => stateRow('fleet', i));
      await m.upsertTargetStates(rows);
      await m.upsertTargetStates([stateRow('fleet', 1, { state: 'FLAPPING', streak: 7, port: 80 })]);

      const seen: MonitorTargetRecord[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await m.listTargets('fleet', { limit: 700, ...(cursor ? { cursor } : {}) });
        seen.push(...page.targets);
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(seen).toHaveLength(3000);
      expect(new Set(seen.map((s) => s.target)).size).toBe(3000);
      expect(seen.find((s) => s.target === ip(1))).toEqual(
        stateRow('fleet', 1, { state: 'FLAPPING', streak: 7 }),
      );

      const down = await m.listTargets('fleet', { state: 'DOWN', limit: 1000 });
      expect(down.targets).toHaveLength(300);
      expect(down.targets.every((t) => t.lastStatus === 'fail')).toBe(true);

      const euA0 = await m.listTargets('fleet', {
        labels: { region: 'eu', 'app.kubernetes.io/name': 'a0' },
        limit: 5000,
      });
      expect(euA0.targets.length).toBe(rows.filter((_, i) => i % 2 === 0 && i % 3 === 0).length);
      const downEu = await m.listTargets('fleet', { state: 'DOWN', labels: { region: 'us' }, limit: 10 });
      expect(downEu.targets).toHaveLength(0); // multiples of 10 are all even -> eu

      const loaded: MonitorTargetRecord[] = [];
      for await (const s of m.loadTargetStates('fleet')) loaded.push(s);
      expect(loaded).toHaveLength(3000);

      await m.deleteTargetStates('fleet', [
        { target: ip(0), port: 80 },
        { target: ip(2), port: 80 },
      ]);
      expect((await m.listTargets('fleet', { limit: 5000 })).targets).toHaveLength(2998);
      await expect(m.listTargets('fleet', { limit: 1, cursor: '!!' })).rejects.toBeInstanceOf(CursorError);
    });

    it('lists transitions since a time, paged, and drops them after keepMs', async () => {
      const m = store.monitors;
      const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 0, min)).toISOString();
      await m.insertTransitions(
        Array.from({ length: 5 }, (_, i) => ({
          monitor: 'tr',
          target: ip(i),
          port: null,
          at: at(i),
          from: 'UP' as const,
          to: 'DOWN' as const,
          run: `run-${i}`,
          status: 'timeout' as const,
          message: `timed out after ${i} ms`,
        })),
      );
      const first = await m.listTransitions('tr', { since: new Date(at(1)), limit: 2 });
      expect(first.transitions.map((t) => t.target)).toEqual([ip(1), ip(2)]);
      expect(first.transitions[0]).toMatchObject({
        port: null,
        from: 'UP',
        to: 'DOWN',
        run: 'run-1',
        status: 'timeout',
      });
      const rest = await m.listTransitions('tr', {
        since: new Date(at(1)),
        limit: 10,
        cursor: first.nextCursor!,
      });
      expect(rest.transitions.map((t) => t.target)).toEqual([ip(3), ip(4)]);
      expect(rest.nextCursor).toBeNull();

      const pruned = await m.pruneHistory({ transitionsBefore: new Date(at(3)), rollupsBefore: new Date(0) });
      expect(pruned.transitions).toBe(3);
      expect((await m.listTransitions('tr', { limit: 10 })).transitions).toHaveLength(2);
    });

    it('adds rollup deltas (sums, min/max) and answers uptime and the latency series of a target', async () => {
      const m = store.monitors;
      const now = new Date('2026-02-01T12:30:00.000Z');
      const h = (hoursAgo: number) => new Date(Date.UTC(2026, 1, 1, 12 - hoursAgo)).toISOString();
      await m.addRollups([rollup('ro', ip(1), h(0)), rollup('ro', ip(1), h(30), { pass: 0, fail: 10 })]);
      // A second delta for the current hour: one slow pass, one timeout without latency.
      const b = new Array<number>(14).fill(0);
      b[9] = 1; // (500, 1000] ms
      await m.addRollups([
        rollup('ro', ip(1), h(0), {
          pass: 1,
          fail: 0,
          timeout: 1,
          latN: 1,
          latMinMs: 900,
          latSumMs: 900,
          latMaxMs: 900,
          buckets: b,
        }),
        rollup('ro', ip(1), h(0), {
          pass: 0,
          fail: 0,
          timeout: 1,
          latN: 0,
          latMinMs: null,
          latSumMs: 0,
          latMaxMs: null,
          buckets: new Array(14).fill(0),
        }),
      ]);
      await m.upsertTargetStates([stateRow('ro', 1)]);
      await m.insertTransitions([
        {
          monitor: 'ro',
          target: ip(1),
          port: 80,
          at: h(1),
          from: 'UNKNOWN',
          to: 'UP',
          run: 'x',
          status: 'pass',
          message: 'ok',
        },
      ]);

      const hist = await m.targetHistory('ro', ip(1), { now, seriesSince: new Date(h(2)) });
      expect(hist.states.map((s) => s.target)).toEqual([ip(1)]);
      expect(hist.transitions).toHaveLength(1);
      // 24 h: 10 pass of 13 (9+1 pass, 1 fail, 2 timeouts); 7 d adds 10 fails from 30 h ago.
      expect(hist.uptime.h24).toBeCloseTo(10 / 13);
      expect(hist.uptime.d7).toBeCloseTo(10 / 23);
      expect(hist.uptime.d30).toBeCloseTo(10 / 23);
      expect(hist.latency).toHaveLength(1);
      const p = hist.latency[0]!;
      expect(p).toMatchObject({ hour: h(0), pass: 10, fail: 1, timeout: 2, latMinMs: 3, latMaxMs: 900 });
      expect(p.latMeanMs).toBeCloseTo(940 / 11);
      // 11 samples: 10 in (2,5] ms, 1 in (500,1000]: the 95th percentile lies in the slow bucket.
      expect(p.latP95Ms).toBeGreaterThan(500);
      expect(p.latP95Ms).toBeLessThanOrEqual(900);

      const none = await m.targetHistory('ro', ip(99), { now });
      expect(none).toEqual({
        states: [],
        transitions: [],
        uptime: { h24: null, d7: null, d30: null },
        latency: [],
      });

      const pruned = await m.pruneHistory({ transitionsBefore: new Date(0), rollupsBefore: new Date(h(2)) });
      expect(pruned.rollups).toBe(1);
    });

    it('keeps the results of the last K rounds of a monitor and deletes older rounds’ results', async () => {
      const m = store.monitors;
      const runs = [];
      for (let seq = 1; seq <= 5; seq++) {
        const run = newRun({ state: 'done' });
        runs.push(run);
        await store.createRun(run);
        await store.insertResults(Array.from({ length: 30 }, (_, i) => result(run.id, i, 'pass')));
        await m.saveRound({
          monitor: 'ret',
          seq,
          runId: run.id,
          state: seq === 5 ? 'running' : 'done',
          startedAt: new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString(),
          finishedAt: null,
          skipped: seq === 3 ? 2 : 0,
        });
      }
      expect(await m.lastRound('ret')).toMatchObject({ seq: 5, state: 'running', runId: runs[4]!.id });
      expect(await m.pruneRoundResults('ret', 2)).toBe(3);
      const counts = await Promise.all(runs.map(async (r) => (await store.countResults(r.id)).pass));
      expect(counts).toEqual([0, 0, 0, 30, 30]);
      expect(await store.getRun(runs[0]!.id)).toBeDefined(); // the run (its summary) stays
      expect(await m.pruneRoundResults('ret', 2)).toBe(0); // already pruned

      await m.deleteMonitorData('ret');
      expect(await m.lastRound('ret')).toBeUndefined();
    });
  });
}
