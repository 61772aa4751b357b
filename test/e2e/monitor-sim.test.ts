import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/start.js';
import { ipv4ToInt } from '../../src/sim/ipv4.js';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import { requireService } from '../helpers/services.js';
import { api, type Json } from '../server/helpers.js';
import { freshDatabase } from '../store/store-fixtures.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

/**
 * Issue 9, must show: a monitor with `downAfter: 2` over 200 simulated hosts; 50 hosts broken through the
 * sim's control endpoint go DOWN exactly at their second failing round (never at the first), the other 150
 * never change, and all 50 come back UP after the repair, with their transitions in the API. A restart of
 * the server resumes the monitor with its states. Every wait polls the API under a generous bound: a busy
 * machine only makes it slower (rounds may be skipped), never changes the outcome.
 */
const HOSTS = 200;
const BASE = '127.22.10.0';
const BROKEN_FIRST = 100;
const BROKEN = 50;
const silent = pino({ level: 'silent' });
const addr = (i: number) => `127.22.10.${i}`;
const broken = Array.from({ length: BROKEN }, (_, i) => addr(BROKEN_FIRST + i));
const byAddress = (a: string, b: string) => ipv4ToInt(a) - ipv4ToInt(b);

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    hosts: HOSTS,
    base: BASE,
    protocols: ['tcp'],
    ports: { tcp: 0 },
    controlPort: 0,
  });
});

afterAll(async () => {
  await sim?.close();
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function control(method: 'POST' | 'DELETE', body?: unknown): Promise<void> {
  const res = await request(`http://127.0.0.1:${sim.controlPort}/faults`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.body.text();
  expect(res.statusCode).toBeLessThan(300);
}

async function get(url: string, path: string): Promise<Json> {
  const r = await api(url, 'GET', path);
  expect(r.status, `GET ${path}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

/** Every page of a monitor's targets in `state`. */
async function targetsIn(url: string, state: string): Promise<Json[]> {
  const out: Json[] = [];
  let cursor: string | null = null;
  do {
    const page: Json = await get(
      url,
      `/api/v1/monitors/fleet/targets?state=${state}&limit=64${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    out.push(...page.targets);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

async function transitionsSince(url: string, since: string): Promise<Json[]> {
  const out: Json[] = [];
  let cursor: string | null = null;
  do {
    const page: Json = await get(
      url,
      `/api/v1/monitors/fleet/transitions?since=${encodeURIComponent(since)}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    out.push(...page.transitions);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const states = async (url: string) => (await get(url, '/api/v1/monitors/fleet')).status.states;

/** The non-pass targets of each finished round of the monitor, by run id, and the rounds in order. */
async function roundFailures(
  url: string,
): Promise<{ order: string[]; failing: Map<string, Map<string, string>> }> {
  const runs: Json[] = (await get(url, '/api/v1/runs?monitor=fleet&limit=1000')).runs;
  const done = runs.filter((r) => r.state === 'done').sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const failing = new Map<string, Map<string, string>>();
  for (const run of done) {
    const results: Json[] = (await get(url, `/api/v1/runs/${run.id}/results?limit=10000`)).results;
    expect(results).toHaveLength(HOSTS);
    failing.set(
      run.id,
      new Map(results.filter((r) => r.status !== 'pass').map((r) => [r.target, `${r.status}: ${r.message}`])),
    );
  }
  return { order: done.map((r) => r.id), failing };
}

describe.each(DIALECTS)('monitor over the simulator ($name)', ({ name, up }) => {
  it.skipIf(!up)(
    '50 hosts broken through the control endpoint go DOWN after their second failing round and come back UP',
    async () => {
      await control('DELETE'); // whatever an earlier test left
      const db = await freshDatabase(name);
      let server = await startServer({
        listen: '127.0.0.1:0',
        db: db.url,
        log: silent,
        allowTargets: ['127.0.0.0/8'],
      });
      try {
        // Targets as objects: the names and labels survive into the target states.
        const targets = Array.from({ length: HOSTS }, (_, i) => ({
          address: addr(i),
          name: `h${i}.sim.test`,
          labels: { half: i < HOSTS / 2 ? 'low' : 'high' },
        }));
        const created = await api(server.url, 'POST', '/api/v1/monitors', {
          name: 'fleet',
          check: 'tcp',
          args: { port: sim.ports.tcp, expectBanner: '^fleetprobe-sim h[0-9]+' },
          targets,
          interval: '1500ms',
          // Generous: a healthy host that misses a deadline on a busy machine would blur "exactly those 50".
          timeout: '3s',
          downAfter: 2,
          upAfter: 1,
          labels: { team: 'edge' },
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect(created.body).toMatchObject({ name: 'fleet', source: 'api', downAfter: 2 });

        await until(
          async () => ((await targetsIn(server.url, 'UP')).length === HOSTS ? true : undefined),
          'all hosts UP',
        );
        const high = await get(server.url, '/api/v1/monitors/fleet/targets?label.half=high&limit=1000');
        expect(high.targets).toHaveLength(HOSTS / 2);
        expect(high.targets[0]).toMatchObject({
          name: 'h100.sim.test',
          labels: { half: 'high', team: 'edge' },
        });

        const brokenAt = new Date().toISOString();
        await control('POST', { range: `${broken[0]}-${broken.at(-1)}`, fault: 'refused', protocol: 'tcp' });
        // The stored states (what the targets route reads) follow the live counts once the round is committed.
        const down = await until(async () => {
          const list = await targetsIn(server.url, 'DOWN');
          return list.length >= BROKEN ? list : undefined;
        }, '50 hosts DOWN');
        expect(down.map((t) => t.target).sort(byAddress)).toEqual(broken);
        expect((await states(server.url)).UP).toBe(HOSTS - BROKEN);

        const downs = await transitionsSince(server.url, brokenAt);
        expect(downs.map((t) => t.target).sort(byAddress)).toEqual(broken);
        for (const t of downs) expect(t).toMatchObject({ from: 'UP', to: 'DOWN', status: 'error' });
        // Each went DOWN at its second failing round: it failed in the round before, and passed before that.
        const { order, failing } = await roundFailures(server.url);
        for (const t of downs) {
          const i = order.indexOf(t.run);
          expect(i, `round ${t.run} of ${t.target}`).toBeGreaterThanOrEqual(2);
          expect(failing.get(order[i]!)!.has(t.target)).toBe(true);
          expect(failing.get(order[i - 1]!)!.has(t.target)).toBe(true);
          expect(failing.get(order[i - 2]!)!.has(t.target)).toBe(false);
        }

        const metrics = await api(server.url, 'GET', '/metrics');
        expect(metrics.body).toContain('fleetprobe_monitor_targets{monitor="fleet",state="DOWN"} 50');
        expect(metrics.body).toMatch(
          /fleetprobe_monitor_last_round_duration_seconds\{monitor="fleet"\} [0-9.]+/,
        );

        const repairedAt = new Date().toISOString();
        await control('DELETE');
        await until(
          async () => ((await targetsIn(server.url, 'UP')).length === HOSTS ? true : undefined),
          'all hosts UP again',
        );
        const ups = await transitionsSince(server.url, repairedAt);
        expect(ups.map((t) => t.target).sort(byAddress)).toEqual(broken);
        for (const t of ups) expect(t).toMatchObject({ from: 'DOWN', to: 'UP', status: 'pass' });

        const history = await get(server.url, `/api/v1/targets/${broken[0]}/history?monitor=fleet`);
        const h = history.monitors[0];
        expect(h.transitions.map((t: Json) => `${t.from}>${t.to}`)).toEqual([
          'DOWN>UP',
          'UP>DOWN',
          'UNKNOWN>UP',
        ]);
        expect(h.uptime.h24).toBeGreaterThan(0);
        expect(h.uptime.h24).toBeLessThan(1);
        expect(h.latency.length).toBeGreaterThan(0);

        // A restart resumes the monitor with its states (before any new round has counted).
        await server.close({ graceMs: 0 });
        server = await startServer({
          listen: '127.0.0.1:0',
          db: db.url,
          log: silent,
          allowTargets: ['127.0.0.0/8'],
        });
        const resumed = (await get(server.url, '/api/v1/monitors/fleet')).status;
        expect(resumed.targets).toBe(HOSTS);
        expect(resumed.states.UP).toBe(HOSTS);
      } finally {
        await server.close({ graceMs: 0 });
        await db.drop();
      }
    },
    240_000,
  );
});
