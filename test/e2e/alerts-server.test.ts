import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import {
  type AlertmanagerProcess,
  alertmanagerInstalled,
  type GettableAlert,
  startAlertmanager,
} from '../helpers/alertmanager.js';
import { api, type Json } from '../server/helpers.js';
import { type CliProcess, ensureBuilt, lines, startCli } from './cli.js';

/**
 * Issue 10, must show, end to end through a real `fleetprobe server` process: a monitor over simulated hosts
 * with a cohort rule on `pop` and an Alertmanager notifier pointing at a real Debian Alertmanager. Breaking
 * one pop gives exactly one cohort alert in Alertmanager and no per-target alert for its members; repairing
 * it resolves it; a server SIGKILLed while a notification is pending (Alertmanager unreachable) delivers it
 * after a restart, once by its fingerprint. Every wait polls a condition under a generous bound.
 */
const BASE = '127.23.40';
const HOSTS = 40;
const addr = (i: number) => `${BASE}.${i}`;
const popOf = (i: number) => (i < 20 ? 'waw' : 'fra');
const WAW = `${addr(0)}-${addr(19)}`;
const FRA = `${addr(20)}-${addr(39)}`;

let sim: Simulator;
let am: AlertmanagerProcess;
let proxy: SwitchableProxy;
let dir: string;

/** A TCP proxy to Alertmanager that can drop and reset every connection: "Alertmanager unreachable". */
interface SwitchableProxy {
  readonly port: number;
  up: boolean;
  close(): Promise<void>;
}

async function switchableProxy(targetPort: number): Promise<SwitchableProxy> {
  const sockets = new Set<net.Socket>();
  const state = { up: true };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    client.once('close', () => sockets.delete(client));
    if (!state.up) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.once('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get up() {
      return state.up;
    },
    set up(v: boolean) {
      state.up = v;
      // Kept-alive connections too: the next request must find Alertmanager gone.
      if (!v) for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Starts `fleetprobe server` and resolves with its URL once it logged that it listens. */
async function startServerProcess(config: string, db: string): Promise<{ cli: CliProcess; url: string }> {
  const cli = startCli(
    ['server', '--config', config, '--db', db, '--listen', '127.0.0.1:0', '--metrics-label', 'pop'],
    { env: { FLEETPROBE_LOG: 'info' } },
  );
  const url = await until(
    async () => {
      if (cli.child.exitCode !== null) throw new Error(`server exited: ${cli.stderr()}`);
      const line = lines(cli.stderr()).find((l) => l.includes('fleetprobe server listening'));
      return line === undefined ? undefined : (JSON.parse(line) as { url: string }).url;
    },
    'the server to listen',
    30_000,
  );
  return { cli, url };
}

async function killHard(cli: CliProcess): Promise<void> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
  cli.child.kill('SIGKILL');
  await cli.done;
}

const ours = async (): Promise<GettableAlert[]> =>
  (await am.alerts()).filter((a) => a.labels.monitor === 'edge');

async function firing(url: string): Promise<Json[]> {
  const r = await api(url, 'GET', '/api/v1/alerts?state=firing&monitor=edge&limit=1000');
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.alerts;
}

beforeAll(async () => {
  if (!alertmanagerInstalled) return;
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'fleetprobe-alerts-e2e-'));
  sim = await startSimulator({ hosts: HOSTS, base: `${BASE}.0`, protocols: ['tcp'], ports: { tcp: 0 } });
  am = await startAlertmanager();
  proxy = await switchableProxy(Number(new URL(am.url).port));
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await am?.stop();
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!alertmanagerInstalled)(
  'alerts through a real fleetprobe server to a real Alertmanager',
  () => {
    it('one cohort alert, no per-target alerts, resolves on repair; a pending notification survives SIGKILL', async () => {
      const targets = join(dir, 'targets.jsonl');
      await writeFile(
        targets,
        Array.from({ length: HOSTS }, (_, i) =>
          JSON.stringify({ address: addr(i), name: `h${i}.sim.test`, labels: { pop: popOf(i) } }),
        ).join('\n'),
      );
      const config = join(dir, 'fleetprobe.yaml');
      await writeFile(
        config,
        `notifiers:
  - { type: alertmanager, name: am, url: "http://127.0.0.1:${proxy.port}", timeout: 5s }
inventories:
  sim:
    files: [${targets}]
monitors:
  - name: edge
    check: tcp
    args: { port: ${sim.ports.tcp}, expectBanner: "^fleetprobe-sim h[0-9]+" }
    inventory: sim
    interval: 1s
    timeout: 2s
    downAfter: 1
    labels: { team: cdn }
    alerts:
      - { kind: target, name: TargetDown, severity: warning, for: 15s }
      - { kind: cohort, name: PopDown, label: pop, percent: 50, severity: critical, labels: { page: "yes" } }
`,
      );
      const db = join(dir, 'fleetprobe.db');
      let server = await startServerProcess(config, db);
      try {
        // Healthy first: every target UP, nothing firing.
        await until(async () => {
          const r = await api(server.url, 'GET', '/api/v1/monitors/edge');
          return r.status === 200 && r.body.status?.states?.UP === HOSTS ? true : undefined;
        }, 'all targets UP');
        expect(await firing(server.url)).toEqual([]);

        // Break waw: one cohort alert in Alertmanager; the 20 target alerts are recorded but held back. (A round
        // under way when the fault starts sees part of the pop fail, below the cohort's 50%: the target rule's
        // \`for\` keeps those from paging before the cohort alert covers them, as in a real setup.)
        sim.faults.set({ range: WAW, fault: 'refused' });
        let states: unknown;
        const history = await until(async () => {
          const list = await firing(server.url);
          states = (await api(server.url, 'GET', '/api/v1/monitors/edge')).body.status?.states;
          return list.length === 21 ? list : undefined;
        }, 'the cohort alert and 20 held-back target alerts').catch((err: Error) => {
          throw new Error(`${err.message} (target states: ${JSON.stringify(states)})`);
        });
        const cohort = history.find((a) => a.rule === 'PopDown')!;
        expect(cohort.labels).toMatchObject({ pop: 'waw', severity: 'critical' });
        const held = history.filter((a) => a.rule === 'TargetDown');
        expect(held).toHaveLength(20);
        for (const a of held) expect(a.inhibitedBy).toBe(cohort.fingerprint);

        const inAm = await until(async () => {
          const list = await ours();
          return list.length > 0 ? list : undefined;
        }, 'the cohort alert in Alertmanager');
        expect(inAm).toHaveLength(1);
        expect(inAm[0]!.labels).toEqual({
          alertname: 'PopDown',
          monitor: 'edge',
          page: 'yes',
          pop: 'waw',
          severity: 'critical',
          team: 'cdn',
        });
        expect(inAm[0]!.annotations).toMatchObject({
          ranges: `${BASE}.[0-19]`,
          down: '20',
          total: '20',
          fleetprobe_fingerprint: cohort.fingerprint,
        });
        // A few more rounds change nothing: still one alert, never one per target.
        const rounds = (await api(server.url, 'GET', '/api/v1/monitors/edge')).body.status.rounds;
        await until(async () => {
          const r = await api(server.url, 'GET', '/api/v1/monitors/edge');
          return r.body.status.rounds >= rounds + 3 ? true : undefined;
        }, 'three more rounds');
        expect((await ours()).map((a) => a.labels.alertname)).toEqual(['PopDown']);

        // /metrics: the delivery and the targets by pop.
        const metrics = (await api(server.url, 'GET', '/metrics')).body as string;
        expect(metrics).toMatch(/fleetprobe_notifications_total\{notifier="am",outcome="sent"\} [1-9]/);
        expect(metrics).toContain(
          'fleetprobe_monitor_targets_by_label{monitor="edge",pop="waw",state="DOWN"} 20',
        );
        expect(metrics).toContain(
          'fleetprobe_monitor_targets_by_label{monitor="edge",pop="fra",state="UP"} 20',
        );

        // Repair: the alert resolves in fleetprobe and leaves Alertmanager.
        sim.faults.clear();
        await until(async () => ((await firing(server.url)).length === 0 ? true : undefined), 'all resolved');
        await until(async () => ((await ours()).length === 0 ? true : undefined), 'Alertmanager emptied');
        const resolved = await api(
          server.url,
          'GET',
          '/api/v1/alerts?state=resolved&monitor=edge&limit=1000',
        );
        expect(resolved.body.alerts.filter((a: Json) => a.rule === 'PopDown')).toHaveLength(1);

        // Alertmanager unreachable, fra breaks: its notification fails and waits in the outbox.
        proxy.up = false;
        sim.faults.set({ range: FRA, fault: 'refused' });
        const fra = await until(async () => {
          const list = await firing(server.url);
          return list.find((a) => a.rule === 'PopDown' && a.labels.pop === 'fra');
        }, 'the fra cohort alert');
        await until(async () => {
          const text = (await api(server.url, 'GET', '/metrics')).body as string;
          return /fleetprobe_notifications_total\{notifier="am",outcome="retried"\} [1-9]/.test(text)
            ? true
            : undefined;
        }, 'a failed delivery scheduled for retry');
        await killHard(server.cli);
        expect(await ours()).toEqual([]);

        // Restarted with Alertmanager reachable again: the pending notification arrives, once.
        proxy.up = true;
        server = await startServerProcess(config, db);
        const arrived = await until(async () => {
          const list = await ours();
          return list.length > 0 ? list : undefined;
        }, 'the pending notification in Alertmanager');
        expect(arrived).toHaveLength(1);
        expect(arrived[0]!.labels).toMatchObject({ alertname: 'PopDown', pop: 'fra' });
        expect(arrived[0]!.annotations.fleetprobe_fingerprint).toBe(fra.fingerprint);
        // The restarted server continued the alert (same instance), it did not fire it anew.
        const after = await firing(server.url);
        expect(after.filter((a) => a.rule === 'PopDown')).toEqual([
          expect.objectContaining({ fingerprint: fra.fingerprint, startsAt: fra.startsAt }),
        ]);
        expect(
          (await ours()).filter((a) => a.annotations.fleetprobe_fingerprint === fra.fingerprint),
        ).toHaveLength(1);
      } finally {
        sim.faults.clear();
        await killHard(server.cli);
      }
    }, 240_000);
  },
);
