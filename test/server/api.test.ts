import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase } from '../store/store-fixtures.js';
import { api, listeners, range, readEvents, startApi, type TestApi } from './helpers.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

// 64 loopback hosts 127.21.0.0/26, each with a TCP listener on one shared port.
const HOSTS = range('127.21.0', 64);

for (const dialect of DIALECTS)
  describe.skipIf(!dialect.up)(`API over ${dialect.name}: runs against loopback listeners`, () => {
    let srv: TestApi;
    let fleet: Awaited<ReturnType<typeof listeners>>;
    let runA: string;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      fleet = await listeners(HOSTS);
      const db = await freshDatabase(dialect.name);
      drop = db.drop;
      srv = await startApi({ store: await openStore(db.url) });
    });
    afterAll(async () => {
      await srv?.close();
      await fleet?.close();
      await drop?.();
    });

    it('starts a run, follows its SSE stream to done, pages through all results', async () => {
      const post = await api(srv.url, 'POST', '/api/v1/runs', {
        check: 'tcp',
        targets: ['127.21.0.0/26'],
        args: { port: fleet.port },
        concurrency: 16,
      });
      expect(post.status).toBe(202);
      expect(post.body).toMatchObject({ check: 'tcp', state: 'queued', total: 64 });
      runA = post.body.id;

      const events = await readEvents(`${srv.url}/api/v1/runs/${runA}/events`);
      const done = events.at(-1)!;
      expect(done.event).toBe('done');
      expect(done.data).toMatchObject({ id: runA, state: 'done', counts: { pass: 64, fail: 0, error: 0 } });
      const progress = events.filter((e) => e.event === 'progress');
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress.at(-1)!.data).toMatchObject({ done: 64, total: 64 });
      for (const p of progress) expect(p.data).toHaveProperty('inFlight');

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await api(srv.url, 'GET', `/api/v1/runs/${runA}/results${q}`);
        expect(page.status).toBe(200);
        seen.push(
          ...page.body.results.map((r: { target: string; status: string }) => `${r.target}:${r.status}`),
        );
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(7);
      expect(new Set(seen)).toEqual(new Set(HOSTS.map((h) => `${h}:pass`)));

      const show = await api(srv.url, 'GET', `/api/v1/runs/${runA}`);
      expect(show.body).toMatchObject({ state: 'done', counts: { pass: 64 }, total: 64 });
      expect(show.body.timings.runMs).toBeGreaterThanOrEqual(0);

      const list = await api(srv.url, 'GET', '/api/v1/runs?check=tcp&state=done');
      expect(list.body.runs.map((r: { id: string }) => r.id)).toContain(runA);
      const filtered = await api(srv.url, 'GET', `/api/v1/runs/${runA}/results?status=fail`);
      expect(filtered.body.results).toEqual([]);
    });

    it('diffs two runs: the targets whose status changed', async () => {
      const closed = HOSTS.slice(0, 32);
      await fleet.close(closed); // these now refuse connections
      const post = await api(srv.url, 'POST', '/api/v1/runs', {
        check: 'tcp',
        targets: ['127.21.0.0/26'],
        args: { port: fleet.port },
      });
      const runB = post.body.id as string;
      const events = await readEvents(`${srv.url}/api/v1/runs/${runB}/events`);
      expect(events.at(-1)!.data).toMatchObject({ state: 'done', counts: { pass: 32, error: 32 } });

      const changes: { target: string; from: string; to: string }[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await api(srv.url, 'GET', `/api/v1/runs/${runA}/diff/${runB}${q}`);
        expect(page.status).toBe(200);
        changes.push(...page.body.changes);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(changes).toHaveLength(32);
      expect(new Set(changes.map((c) => c.target))).toEqual(new Set(closed));
      expect(changes.every((c) => c.from === 'pass' && c.to === 'error')).toBe(true);
    });

    it('exposes Prometheus metrics with HELP/TYPE lines, counters and the latency histogram', async () => {
      const res = await api(srv.url, 'GET', '/metrics');
      expect(res.status).toBe(200);
      const text = res.body as string;
      expect(text).toContain('# TYPE fleetprobe_checks_total counter');
      expect(text).toContain('fleetprobe_checks_total{check="tcp",status="pass"} 96');
      expect(text).toContain('fleetprobe_checks_total{check="tcp",status="error"} 32');
      expect(text).toContain('fleetprobe_runs_total{state="done"} 2');
      expect(text).toContain('# TYPE fleetprobe_check_duration_seconds histogram');
      expect(text).toContain('fleetprobe_check_duration_seconds_bucket{check="tcp",le="+Inf"} 128');
      expect(text).toContain('fleetprobe_check_duration_seconds_count{check="tcp"} 128');
      expect(text).toMatch(/^fleetprobe_checks_in_flight 0$/m);
      // The client's own overload (issue 11): counters present from the start.
      expect(text).toContain('# TYPE fleetprobe_event_loop_stalls_total counter');
      expect(text).toMatch(/^fleetprobe_checks_rerun_after_stall_total \d+$/m);
      expect(text).toMatch(/^fleetprobe_event_loop_lag_seconds\{quantile="0.99"\} [\d.e-]+$/m);
    });

    it('serves /healthz and an OpenAPI document', async () => {
      expect((await api(srv.url, 'GET', '/healthz')).body).toMatchObject({ ok: true, store: dialect.name });
      const doc = await api(srv.url, 'GET', '/api/v1/openapi.json');
      expect(doc.body.openapi).toBe('3.1.0');
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining([
          '/runs',
          '/runs/{id}',
          '/runs/{id}/results',
          '/runs/{id}/events',
          '/runs/{id}/cancel',
          '/runs/{a}/diff/{b}',
        ]),
      );
      expect(doc.body.components.schemas.RunRequest.properties).toHaveProperty('concurrency');
    });

    it('answers 404 for an unknown run and 400 for a bad cursor', async () => {
      const missing = await api(srv.url, 'GET', '/api/v1/runs/nope');
      expect(missing.status).toBe(404);
      expect(missing.body.error).toBe('not_found');
      const bad = await api(srv.url, 'GET', `/api/v1/runs/${runA}/results?cursor=zzz`);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/^query\.cursor/);
    });
  });
