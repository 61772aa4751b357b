import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/simulator.js';
import { openStore } from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase } from '../store/store-fixtures.js';
import { api, type Json, startApi } from './helpers.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

const BASE = '127.43.0.0';
const BROKEN = ['127.43.0.1', '127.43.0.2'];

async function patch(url: string, path: string, body: unknown) {
  const res = await request(`${url}${path}`, {
    method: 'PATCH',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.statusCode, body: (await res.body.json()) as Json };
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe.each(DIALECTS)('alert rules of API monitors ($name)', ({ name, up }) => {
  it.skipIf(!up)(
    'POST with alerts fires them, PATCH keeps them, PATCH alerts: [] resolves them; a bad rule is a 400',
    async () => {
      const db = await freshDatabase(name);
      open.push({ close: () => db.drop() });
      const sim = await startSimulator({ hosts: 3, base: BASE, protocols: ['tcp'], ports: { tcp: 0 } });
      open.push(sim);
      sim.faults.set({ range: `${BROKEN[0]}-${BROKEN[1]}`, fault: 'refused', protocol: 'tcp' });
      const srv = await startApi({ store: await openStore(db.url), allowTargets: ['127.0.0.0/8'] });
      open.push(srv);
      const body = {
        name: 'edge',
        check: 'tcp',
        // The sim answers on every loopback address: a refused host is told apart by the missing banner.
        args: { port: sim.ports.tcp, expectBanner: '^fleetprobe-sim' },
        targets: ['127.43.0.0', ...BROKEN],
        interval: '300ms',
        timeout: '3s',
        downAfter: 1,
        alerts: [{ kind: 'target', name: 'TargetDown', for: '200ms', severity: 'critical' }],
      };

      const bad = await api(srv.url, 'POST', '/api/v1/monitors', {
        ...body,
        alerts: [{ kind: 'fleet', name: 'FleetDown', percent: 200 }],
      });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/^body\.alerts\[0\]\.percent: /);
      expect((await api(srv.url, 'GET', '/api/v1/monitors/edge')).status).toBe(404);

      const created = await api(srv.url, 'POST', '/api/v1/monitors', body);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.alerts).toEqual([
        { kind: 'target', name: 'TargetDown', for: 200, severity: 'critical', labels: {} },
      ]);

      const firing = async () =>
        (await api(srv.url, 'GET', '/api/v1/alerts?state=firing&monitor=edge')).body.alerts
          .map((a: Json) => `${a.labels.alertname} ${a.labels.target}`)
          .sort();
      await expect
        .poll(firing, { timeout: 30_000, interval: 100 })
        .toEqual(BROKEN.map((t) => `TargetDown ${t}`));

      // A PATCH of other fields keeps the rules as they were (`for` stays 200 ms).
      const relabelled = await patch(srv.url, '/api/v1/monitors/edge', { labels: { team: 'noc' } });
      expect(relabelled.status, JSON.stringify(relabelled.body)).toBe(200);
      expect(relabelled.body.alerts).toEqual(created.body.alerts);
      const badPatch = await patch(srv.url, '/api/v1/monitors/edge', {
        alerts: [{ kind: 'nope', name: 'x' }],
      });
      expect(badPatch.status).toBe(400);
      expect(badPatch.body.message).toMatch(/^body\.alerts\[0\]\.kind: /);

      // Removing the rules resolves their alerts at once, as a config reload does.
      const removed = await patch(srv.url, '/api/v1/monitors/edge', { alerts: [] });
      expect(removed.status, JSON.stringify(removed.body)).toBe(200);
      expect(removed.body.alerts).toBeUndefined();
      await expect.poll(firing, { timeout: 30_000, interval: 100 }).toEqual([]);
      const resolved = await api(srv.url, 'GET', '/api/v1/alerts?state=resolved&monitor=edge');
      expect(resolved.body.alerts.map((a: Json) => a.labels.target).sort()).toEqual(BROKEN);
    },
    90_000,
  );
});
