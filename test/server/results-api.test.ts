import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/engine/result.js';
import { exportLines } from '../../src/server/routes/results.js';
import { csvFormat, jsonlFormat } from '../../src/sinks/formats.js';
import { openStore } from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase, newRun, result } from '../store/store-fixtures.js';
import { api, type Json, listeners, range, readEvents, startApi, type TestApi } from './helpers.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

// 64 loopback hosts 127.24.0.0/26: listeners on the first 40 (pass), nothing on the last 24 (refused).
const NET = '127.24.0.0/26';
const OPEN = range('127.24.0', 40);

const runTo = async (srv: TestApi, body: Json): Promise<string> => {
  const post = await api(srv.url, 'POST', '/api/v1/runs', body);
  expect(post.status).toBe(202);
  const events = await readEvents(`${srv.url}/api/v1/runs/${post.body.id}/events`);
  expect(events.at(-1)!.event).toBe('done');
  return post.body.id;
};

for (const dialect of DIALECTS)
  describe.skipIf(!dialect.up)(`results API over ${dialect.name}`, () => {
    let srv: TestApi;
    let fleet: Awaited<ReturnType<typeof listeners>>;
    let drop: () => Promise<void>;
    let first: string;

    beforeAll(async () => {
      fleet = await listeners(OPEN);
      const db = await freshDatabase(dialect.name);
      drop = db.drop;
      srv = await startApi({ store: await openStore(db.url) });
      first = await runTo(srv, { check: 'tcp', targets: [NET], args: { port: fleet.port }, concurrency: 16 });
    });
    afterAll(async () => {
      await srv?.close();
      await fleet?.close();
      await drop?.();
    });

    it('filters results by message text, CIDR and prefix, with the total of matches', async () => {
      const q = async (query: string) =>
        (await api(srv.url, 'GET', `/api/v1/runs/${first}/results?${query}`)).body;
      const refused = await q('text=econnrefused&total=true&limit=5');
      expect(refused.total).toBe(24);
      expect(refused.results).toHaveLength(5);
      expect(refused.results[0]).toMatchObject({ status: 'error', reason: 'connect ECONNREFUSED' });
      const block = await q(`address=${encodeURIComponent('127.24.0.32/29')}&total=true&limit=100`);
      expect(block.total).toBe(8);
      expect(block.results.map((r: Json) => r.target).sort()).toEqual(range('127.24.0', 40).slice(32).sort());
      expect((await q('address=127.24.0.4&total=true')).total).toBe(1 + 10); // .4 and .40-.49
      expect((await q('status=pass&total=true&limit=1')).total).toBe(40);
      const bad = await api(
        srv.url,
        'GET',
        `/api/v1/runs/${first}/results?address=${encodeURIComponent('127.0.0.0/40')}`,
      );
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/^query\.address/);
      const unknown = await api(srv.url, 'GET', `/api/v1/runs/${first}/results?colour=red`);
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toMatch(/^query\.colour/);
    });

    it('filters by name and label.<key> (results stored with names and labels)', async () => {
      const run = newRun({ check: 'dns', state: 'done' });
      await srv.store.createRun(run);
      const rows: Result[] = Array.from({ length: 20 }, (_, i) =>
        result(run.id, i, i < 5 ? 'fail' : 'pass', {
          name: `node-${i}.fra.example`,
          labels: { pop: i % 2 ? 'ams' : 'fra', tier: 'edge' },
        }),
      );
      await srv.store.insertResults(rows);
      const q = async (query: string) =>
        (await api(srv.url, 'GET', `/api/v1/runs/${run.id}/results?${query}`)).body;
      expect((await q('label.pop=ams&label.tier=edge&total=true')).total).toBe(10);
      expect((await q('label.pop=ams&status=fail&total=true')).total).toBe(2);
      expect((await q('name=NODE-1&total=true')).total).toBe(11); // node-1, node-10..19
      expect((await api(srv.url, 'GET', `/api/v1/runs/${run.id}/results?label.=x`)).status).toBe(400);
    });

    it('answers the failure groups with counts, folded ranges and names', async () => {
      const res = await api(srv.url, 'GET', `/api/v1/runs/${first}/groups`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        groupCount: 1,
        groups: [
          {
            status: 'error',
            reason: 'connect ECONNREFUSED',
            count: 24,
            message: 'connect ECONNREFUSED',
            messagesVary: false,
            targets: ['127.24.0.[40-63]'],
            names: [],
            unlisted: 0,
          },
        ],
      });
      const pass = await api(srv.url, 'GET', `/api/v1/runs/${first}/groups?status=pass`);
      expect(pass.body.groups).toMatchObject([{ status: 'pass', reason: 'connected', count: 40 }]);
      expect(pass.body.groups[0].targets).toEqual(['127.24.0.[0-39]']);
      expect((await api(srv.url, 'GET', '/api/v1/runs/nope/groups')).status).toBe(404);
    });

    it('exports every matching result as JSON lines and CSV, honouring the filters', async () => {
      const jsonl = await request(`${srv.url}/api/v1/runs/${first}/results.jsonl`);
      expect(jsonl.statusCode).toBe(200);
      expect(jsonl.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(jsonl.headers['content-disposition']).toMatch(/attachment; filename="fleetprobe-.{8}\.jsonl"/);
      const lines = (await jsonl.body.text())
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(64);
      expect(new Set(lines.map((r) => r.target)).size).toBe(64);
      const csv = await api(srv.url, 'GET', `/api/v1/runs/${first}/results.csv?status=error`);
      const rows = (csv.body as string).trimEnd().split('\n');
      expect(rows[0]).toBe(
        'run,target,port,name,labels,check,status,durationMs,startedAt,attempts,message,reason,data',
      );
      expect(rows).toHaveLength(1 + 24);
      expect(rows.slice(1).every((r) => r.includes(',error,'))).toBe(true);
      const bad = await api(
        srv.url,
        'GET',
        `/api/v1/runs/${first}/results.csv?address=${encodeURIComponent('1.2.3.4/99')}`,
      );
      expect(bad.status).toBe(400);
    });

    it('diffs against the previous run of the same series: counts first, messages, numeric order, filter', async () => {
      // Another port is another series: it must not become the baseline.
      const otherSeries = await runTo(srv, {
        check: 'tcp',
        targets: [NET],
        args: { port: 9 },
        concurrency: 16,
      });
      await fleet.close(range('127.24.0', 12).slice(2)); // 127.24.0.2-11 now refuse
      const second = await runTo(srv, {
        check: 'tcp',
        targets: [NET],
        args: { port: fleet.port },
        concurrency: 16,
      });
      const previous = await api(srv.url, 'GET', `/api/v1/runs/${second}/previous`);
      expect(previous.body.previous.id).toBe(first);
      expect(previous.body.previous.id).not.toBe(otherSeries);
      expect((await api(srv.url, 'GET', `/api/v1/runs/${first}/previous`)).body).toEqual({ previous: null });

      const page = await api(srv.url, 'GET', `/api/v1/runs/${first}/diff/${second}?limit=4`);
      expect(page.body.summary).toEqual({
        regressed: 10,
        recovered: 0,
        changed: 0,
        unchanged: 54,
        added: 0,
        removed: 0,
        totalBefore: 64,
        totalNow: 64,
      });
      expect(page.body.changes[0]).toEqual({
        target: '127.24.0.2',
        port: fleet.port,
        from: 'pass',
        to: 'error',
        fromMessage: 'connected',
        toMessage: 'connect ECONNREFUSED',
      });
      const all = await api(
        srv.url,
        'GET',
        `/api/v1/runs/${first}/diff/${second}?change=regressed&limit=100`,
      );
      // Numeric order: .2 ... .9, then .10, .11 (as text .10 would come before .2).
      expect(all.body.changes.map((c: Json) => c.target)).toEqual(range('127.24.0', 12).slice(2));
      const next = await api(
        srv.url,
        'GET',
        `/api/v1/runs/${first}/diff/${second}?limit=4&cursor=${page.body.nextCursor}`,
      );
      expect(next.body.summary).toBeUndefined();
      expect(next.body.changes[0].target).toBe('127.24.0.6');
      const recovered = await api(srv.url, 'GET', `/api/v1/runs/${first}/diff/${second}?change=recovered`);
      expect(recovered.body.changes).toEqual([]);
    });

    it('documents the new routes in OpenAPI with operation ids', async () => {
      const doc = (await api(srv.url, 'GET', '/api/v1/openapi.json')).body;
      for (const [path, op] of [
        ['/runs/{id}/results', 'listResults'],
        ['/runs/{id}/results.jsonl', 'exportResultsJsonl'],
        ['/runs/{id}/results.csv', 'exportResultsCsv'],
        ['/runs/{id}/groups', 'listFailureGroups'],
        ['/runs/{id}/previous', 'previousRun'],
        ['/runs/{a}/diff/{b}', 'diffRuns'],
      ] as const) {
        expect(doc.paths[path]?.get?.operationId, path).toBe(op);
      }
      const params = doc.paths['/runs/{id}/results'].get.parameters.map((p: Json) => p.name);
      expect(params).toEqual(
        expect.arrayContaining(['text', 'address', 'name', 'label.{key}', 'total', 'reason']),
      );
    });
  });

describe('results export', () => {
  it('reads the store one page at a time, only as the consumer asks, and stops when it stops', async () => {
    const store = await openStore(':memory:');
    try {
      const run = newRun();
      await store.createRun(run);
      await store.insertResults(Array.from({ length: 2500 }, (_, i) => result(run.id, i, 'pass')));
      let reads = 0;
      const counting = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'listResults') reads++;
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const lines = exportLines(counting, run.id, {}, csvFormat, 1000);
      expect((await lines.next()).value).toMatch(/^run,target,/); // the header: nothing read yet
      expect(reads).toBe(0);
      const page = (await lines.next()).value as string;
      expect(page.split('\n')).toHaveLength(1001);
      expect(reads).toBe(1);
      await lines.return(undefined); // the client went away
      expect(reads).toBe(1);
      const all: string[] = [];
      for await (const chunk of exportLines(counting, run.id, {}, jsonlFormat, 1000)) all.push(chunk);
      expect(all.join('').trimEnd().split('\n')).toHaveLength(2500);
    } finally {
      await store.close();
    }
  });
});
