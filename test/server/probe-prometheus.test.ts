import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import {
  type Daemon,
  getText,
  PROMTOOL,
  prometheusInstalled,
  startPrometheus,
} from '../helpers/prometheus.js';
import { api, startApi, type TestApi } from './helpers.js';

const READ = 'read-token-0123456789';
const OPERATE = 'operate-token-0123456789';

/** `promtool check metrics` on `text`: its exit code and what it printed. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

/**
 * Issue 10, must show: a real Prometheus (Debian's) scrapes `/probe` and `/metrics` of a server that has
 * tokens but `--metrics-public`, with blackbox_exporter's usual relabelling (only the exporter address
 * changed); `promtool check metrics` finds nothing to say about either output.
 */
describe.skipIf(!prometheusInstalled())('Prometheus scrapes /probe and /metrics', () => {
  let sim: Simulator;
  let ours: TestApi;
  let httpTarget: string;

  beforeAll(async () => {
    sim = await startSimulator({
      hosts: 4,
      base: '127.42.0.0',
      protocols: ['http', 'https', 'tcp', 'dns'],
      ports: { http: 0, https: 0, tcp: 0, dns: 0 },
    });
    httpTarget = `http://127.42.0.1:${sim.ports.http}/`;
    ours = await startApi({
      auth: {
        tokens: [
          { token: READ, role: 'read' },
          { token: OPERATE, role: 'operate' },
        ],
      },
      metricsPublic: true,
      probeModules: {
        http_2xx: { check: 'http', args: { expectStatus: '2xx' }, timeout: 5000 },
        https_2xx: {
          check: 'http',
          args: { scheme: 'https', ca: 'sim', host: 'h1.fleet.test' },
          timeout: 5000,
        },
        tcp_banner: { check: 'tcp', args: { expectBanner: '^fleetprobe-sim' }, timeout: 5000 },
        dns_a: { check: 'dns', args: { name: 'h1.fleet.test', type: 'A' }, timeout: 5000 },
      },
      credentials: { sshIdentities: {}, knownHosts: {}, checkModules: {}, caBundles: { sim: sim.caFile! } },
    });
    // Some runs and checks, so /metrics has every family with samples (histogram included).
    const run = await api(
      ours.url,
      'POST',
      '/api/v1/runs',
      { check: 'tcp', targets: ['127.42.0.0/30'], args: { port: sim.ports.tcp } },
      OPERATE,
    );
    expect(run.status).toBe(202);
    for (let i = 0; i < 200; i++) {
      const got = await api(ours.url, 'GET', `/api/v1/runs/${run.body.id}`, undefined, READ);
      if (got.body.state === 'done') break;
      await delay(50);
    }
  }, 60_000);

  afterAll(async () => {
    await ours?.close();
    await sim?.close();
  });

  it('promtool check metrics is clean on /probe (http, https, tcp, dns) and /metrics', async () => {
    const outputs: Record<string, string> = {};
    for (const [module, target] of [
      ['http_2xx', httpTarget],
      ['https_2xx', `https://127.42.0.1:${sim.ports.https}/`],
      ['tcp_banner', `127.42.0.1:${sim.ports.tcp}`],
      ['dns_a', `127.0.0.1:${sim.ports.dns}`],
    ] as const) {
      const res = await getText(`${ours.url}/probe?module=${module}&target=${encodeURIComponent(target)}`);
      expect(res.status).toBe(200);
      expect(res.text, module).toMatch(/^probe_success 1$/m);
      outputs[module] = res.text;
    }
    // A failing probe too (nothing listens on port 1 of a fleet address: refused).
    outputs.refused = (await getText(`${ours.url}/probe?module=http_2xx&target=http://127.42.0.2:1/`)).text;
    expect(outputs.refused).toMatch(/^probe_success 0$/m);
    const metrics = await getText(`${ours.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^fleetprobe_check_duration_seconds_bucket\{check="tcp"/m);
    outputs.metrics = metrics.text;
    for (const [what, text] of Object.entries(outputs)) {
      const check = await promtoolCheck(text);
      expect({ what, ...check }).toEqual({ what, code: 0, output: '' });
    }
  }, 60_000);

  describe('a real Prometheus', () => {
    let prom: Daemon;
    beforeAll(async () => {
      const exporter = new URL(ours.url).host;
      // blackbox_exporter's documented scrape config; only the replacement address is fleetprobe's.
      const config = {
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          {
            job_name: 'blackbox',
            metrics_path: '/probe',
            params: { module: ['http_2xx'] },
            static_configs: [{ targets: [httpTarget] }],
            relabel_configs: [
              { source_labels: ['__address__'], target_label: '__param_target' },
              { source_labels: ['__param_target'], target_label: 'instance' },
              { target_label: '__address__', replacement: exporter },
            ],
          },
          { job_name: 'fleetprobe', static_configs: [{ targets: [exporter] }] },
        ],
      };
      prom = await startPrometheus(JSON.stringify(config));
    }, 90_000);
    afterAll(async () => {
      await prom?.stop();
    });

    /** Polls an instant query until it has a sample (bounded: 60 tries, one per scrape interval). */
    async function firstSample(
      query: string,
    ): Promise<{ metric: Record<string, string>; value: [number, string] }> {
      for (let i = 0; i < 60; i++) {
        const res = await getText(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`);
        const body = JSON.parse(res.text) as {
          data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
        };
        const sample = body.data?.result?.[0];
        if (sample) return sample;
        await delay(1000);
      }
      throw new Error(`no sample of ${query} after 60 s: ${prom.stderrTail()}`);
    }

    it('scrapes /probe with the blackbox relabelling and /metrics without a token', async () => {
      const success = await firstSample('probe_success');
      expect(success.metric).toMatchObject({ job: 'blackbox', instance: httpTarget });
      expect(success.value[1]).toBe('1');
      const status = await firstSample('probe_http_status_code');
      expect(status.value[1]).toBe('200');
      const up = await firstSample('up{job="fleetprobe"} == 1');
      expect(up.value[1]).toBe('1');
      const checks = await firstSample('fleetprobe_checks_total{check="tcp"}');
      expect(Number(checks.value[1])).toBeGreaterThan(0);
    }, 90_000);
  });
});
