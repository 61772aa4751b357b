import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { ConfigHolder } from '../../src/config/config-holder.js';
import { openStore, type Store } from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase } from '../store/store-fixtures.js';
import { api, type Json, listeners, startApi, type TestApi } from './helpers.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

/** A config file with one monitor (its interval is long: one round at start, then none during the test). */
const CONFIG = `monitors:
  - name: edge
    check: tcp
    args: { port: 9 }
    targets: [127.0.0.1]
    interval: 1h
`;

async function call(url: string, method: 'PATCH' | 'DELETE', path: string, body?: unknown) {
  const res = await request(`${url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? (JSON.parse(text) as Json) : undefined };
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe.each(DIALECTS)('monitors API ($name)', ({ name, up }) => {
  let dir: string;
  let holder: ConfigHolder | undefined;
  async function server(url: string, opts: { config?: boolean } = {}): Promise<TestApi> {
    const store: Store = await openStore(url);
    let config: ConfigHolder | undefined;
    if (opts.config) {
      dir ??= mkdtempSync(join(tmpdir(), 'fp-monitors-'));
      writeFileSync(join(dir, 'fleetprobe.yaml'), CONFIG);
      config = await ConfigHolder.load(join(dir, 'fleetprobe.yaml'), { registry: createBuiltinRegistry() });
    }
    holder = config;
    const srv = await startApi({ store, allowTargets: ['127.0.0.0/8'], config });
    open.push(srv);
    return srv;
  }

  it.skipIf(!up)(
    'creates, changes, pauses (persisted across a restart) and deletes monitors; config monitors are read-only',
    async () => {
      const db = await freshDatabase(name);
      open.push({ close: () => db.drop() });
      let srv = await server(db.url, { config: true });
      const body = {
        name: 'web',
        check: 'tcp',
        args: { port: 9 },
        targets: ['127.0.0.1', { address: '127.0.0.2', name: 'two.test', labels: { rack: 1 } }],
        interval: '1h',
        labels: { team: 'edge' },
      };
      const created = await api(srv.url, 'POST', '/api/v1/monitors', body);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({ name: 'web', source: 'api', intervalMs: 3_600_000, downAfter: 2 });
      expect((await api(srv.url, 'POST', '/api/v1/monitors', body)).status).toBe(409);
      expect((await api(srv.url, 'POST', '/api/v1/monitors', { ...body, name: 'edge' })).status).toBe(409);

      // Validated as runs are: the allow-list, credentials by name, unknown fields.
      const outside = await api(srv.url, 'POST', '/api/v1/monitors', {
        ...body,
        name: 'x',
        targets: ['10.0.0.1'],
      });
      expect(outside).toMatchObject({
        status: 403,
        body: { message: expect.stringContaining('body.targets[0]') },
      });
      const dnsOutside = await api(srv.url, 'POST', '/api/v1/monitors', {
        ...body,
        name: 'x',
        check: 'dns',
        args: { name: 'a.test', server: '10.0.0.53' },
      });
      expect(dnsOutside.status).toBe(403);
      const sshPath = await api(srv.url, 'POST', '/api/v1/monitors', {
        ...body,
        name: 'x',
        check: 'ssh',
        args: { command: 'true', identity: '/etc/passwd' },
      });
      expect(sshPath).toMatchObject({
        status: 400,
        body: { message: expect.stringContaining('body.args.identity') },
      });
      expect(
        (await api(srv.url, 'POST', '/api/v1/monitors', { ...body, name: 'x', every: '1m' })).status,
      ).toBe(400);
      expect(
        (await api(srv.url, 'POST', '/api/v1/monitors', { ...body, name: 'x', interval: 'soon' })).status,
      ).toBe(400);

      const list = await api(srv.url, 'GET', '/api/v1/monitors');
      expect(list.body.monitors.map((m: Json) => [m.name, m.source])).toEqual([
        ['edge', 'config'],
        ['web', 'api'],
      ]);

      const patched = await call(srv.url, 'PATCH', '/api/v1/monitors/web', { interval: '30m', downAfter: 3 });
      expect(patched).toMatchObject({
        status: 200,
        body: { intervalMs: 1_800_000, downAfter: 3, labels: { team: 'edge' } },
      });
      expect((await call(srv.url, 'PATCH', '/api/v1/monitors/edge', { downAfter: 3 })).status).toBe(409);
      expect((await call(srv.url, 'DELETE', '/api/v1/monitors/edge')).status).toBe(409);
      expect((await call(srv.url, 'PATCH', '/api/v1/monitors/nope', { downAfter: 3 })).status).toBe(404);

      expect((await api(srv.url, 'POST', '/api/v1/monitors/web/pause')).body).toMatchObject({
        paused: true,
        status: { paused: true },
      });
      expect((await api(srv.url, 'POST', '/api/v1/monitors/edge/pause')).body).toMatchObject({
        paused: true,
        source: 'config',
      });

      // A restart keeps both pauses and the change.
      await srv.close();
      open.splice(open.indexOf(srv), 1);
      srv = await server(db.url, { config: true });
      const again = (await api(srv.url, 'GET', '/api/v1/monitors')).body.monitors;
      expect(again.map((m: Json) => [m.name, m.paused, m.status.paused, m.downAfter])).toEqual([
        ['edge', true, true, 2],
        ['web', true, true, 3],
      ]);
      expect((await api(srv.url, 'POST', '/api/v1/monitors/edge/resume')).body.paused).toBe(false);

      // A config reload adds a monitor (and keeps the others running as they were).
      writeFileSync(
        join(dir, 'fleetprobe.yaml'),
        `${CONFIG}  - name: core\n    check: tcp\n    args: { port: 9 }\n    targets: [127.0.0.2]\n    interval: 1h\n`,
      );
      await holder!.reload();
      await expect
        .poll(async () =>
          (await api(srv.url, 'GET', '/api/v1/monitors')).body.monitors.map((m: Json) => m.name),
        )
        .toEqual(['core', 'edge', 'web']);

      expect((await call(srv.url, 'DELETE', '/api/v1/monitors/web')).status).toBe(204);
      expect((await api(srv.url, 'GET', '/api/v1/monitors/web')).status).toBe(404);
      expect((await call(srv.url, 'DELETE', '/api/v1/monitors/web')).status).toBe(404);
    },
    60_000,
  );

  it.skipIf(!up)('runs take target objects: names and labels reach the results', async () => {
    const db = await freshDatabase(name);
    open.push({ close: () => db.drop() });
    const srv = await server(db.url);
    const l = await listeners(['127.0.0.1']);
    open.push(l);
    const res = await api(srv.url, 'POST', '/api/v1/runs', {
      check: 'tcp',
      args: { port: l.port },
      targets: [{ address: '127.0.0.1', name: 'one.test', labels: { rack: 'r1', tier: 2 } }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await srv.manager.finished(res.body.id);
    const results = (await api(srv.url, 'GET', `/api/v1/runs/${res.body.id}/results`)).body.results;
    expect(results).toMatchObject([
      { target: '127.0.0.1', name: 'one.test', labels: { rack: 'r1', tier: '2' }, status: 'pass' },
    ]);
    const bad = await api(srv.url, 'POST', '/api/v1/runs', {
      check: 'tcp',
      args: { port: 1 },
      targets: [{ adress: 'x' }],
    });
    expect(bad.status).toBe(400);
  });
});
