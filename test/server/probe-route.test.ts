import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { emptyCredentials } from '../../src/config/credentials.js';
import { addProbeModuleFlag } from '../../src/config/probe-modules.js';
import { UsageError } from '../../src/core/errors.js';
import { AllowList } from '../../src/server/allow-list.js';
import { buildServer } from '../../src/server/app.js';
import { ApiError } from '../../src/server/errors.js';
import { parseProbeTarget, probeTimeoutMs } from '../../src/server/probe/probe-request.js';
import { probeRoutes } from '../../src/server/routes/probe.js';
import { openStore } from '../../src/store/index.js';
import { startHealthy, startHttp, startTarpit, type TestServer } from '../helpers/misbehaving-servers.js';
import { getText, sampleOf } from '../helpers/prometheus.js';
import { startApi, type TestApi } from './helpers.js';

const READ = 'read-token-0123456789';

describe('probe request rules', () => {
  it('takes the scrape timeout header less 0.5 s, capped by the module timeout (blackbox_exporter)', () => {
    expect(probeTimeoutMs(5000, '10')).toBe(5000);
    expect(probeTimeoutMs(5000, '3')).toBe(2500);
    expect(probeTimeoutMs(5000, undefined)).toBe(5000);
    expect(probeTimeoutMs(200_000, undefined)).toBe(119_500); // no header: 120 s
    expect(probeTimeoutMs(5000, '0.4')).toBe(5000); // nothing left after the offset: the module's
    expect(() => probeTimeoutMs(5000, 'soon')).toThrow(ApiError);
  });

  it('reads an http target as a URL and any other as host[:port]; the allow-list applies', () => {
    expect(parseProbeTarget('http', 'https://127.0.0.1/health?x=1', undefined)).toEqual({
      target: { address: '127.0.0.1', port: 443, labels: {} },
      args: { scheme: 'https', path: '/health?x=1' },
    });
    expect(parseProbeTarget('http', 'http://[::1]:8080/', undefined).target).toMatchObject({
      address: '::1',
      port: 8080,
    });
    expect(parseProbeTarget('http', '127.0.0.1:81', undefined)).toMatchObject({
      target: { address: '127.0.0.1', port: 81 },
      args: {},
    });
    expect(parseProbeTarget('dns', '127.0.0.1:5353', undefined).target).toMatchObject({ port: 5353 });
    const allow = new AllowList(['127.0.0.0/8']);
    const refused = (check: string, text: string) => {
      try {
        parseProbeTarget(check, text, allow);
      } catch (err) {
        return err instanceof ApiError ? err.statusCode : err;
      }
      return 'allowed';
    };
    expect(refused('tcp', '127.1.2.3:22')).toBe('allowed');
    expect(refused('tcp', '10.0.0.1:22')).toBe(403);
    expect(refused('http', 'http://example.test/')).toBe(403); // a name cannot be vetted
    expect(refused('tcp', '127.0.0.0/30')).toBe(400);
    expect(refused('http', 'ftp://127.0.0.1/')).toBe(400);
  });

  it('parses --probe-module name=<json>, naming what is wrong', () => {
    const mods = addProbeModuleFlag({}, 'http_2xx={"check":"http","args":{"path":"/h"},"timeout":"3s"}');
    expect(mods).toEqual({ http_2xx: { check: 'http', args: { path: '/h' }, timeout: 3000 } });
    expect(() => addProbeModuleFlag({}, 'nojson')).toThrow(UsageError);
    expect(() => addProbeModuleFlag({}, 'a={"check":"http","timeout":"soon"}')).toThrow(/a\.timeout/);
    expect(() => addProbeModuleFlag({}, 'a={"check":"http","extra":1}')).toThrow(UsageError);
  });

  it('refuses at start a module with an unknown check, a path for a credential, or an address outside the allow-list', async () => {
    const store = await openStore(':memory:');
    try {
      const build = (probeModules: Record<string, { check: string; args: Record<string, unknown> }>) =>
        buildServer({ store, auth: { tokens: [] }, allowTargets: ['127.0.0.0/8'], probeModules });
      await expect(build({ x: { check: 'nope', args: {} } })).rejects.toThrow(
        /probe module x: unknown check/,
      );
      await expect(build({ x: { check: 'http', args: { ca: '/etc/ssl/ca.pem' } } })).rejects.toThrow(
        /probe module x: args\.ca/,
      );
      await expect(build({ x: { check: 'dns', args: { server: '10.0.0.1' } } })).rejects.toThrow(
        /probe module x: args\.server/,
      );
    } finally {
      await store.close();
    }
  });
});

describe('GET /probe and /metrics on a server', () => {
  let healthy: TestServer;
  let tarpit: TestServer;
  let closed: TestApi;
  let open: TestApi;
  const modules = {
    http_2xx: { check: 'http', args: { expectStatus: '2xx' } },
    http_small: { check: 'http', args: { expectStatus: '2xx', maxBytes: 1024 } },
    slow: { check: 'tcp', args: { expectBanner: '^never' }, timeout: 10_000 },
  };

  beforeAll(async () => {
    healthy = await startHealthy();
    tarpit = await startTarpit();
    const auth = { tokens: [{ token: READ, role: 'read' as const }] };
    closed = await startApi({ auth, probeModules: modules, allowTargets: ['127.0.0.0/8'] });
    open = await startApi({
      auth,
      probeModules: modules,
      metricsPublic: true,
      metricsProviders: [
        () => '# HELP extra_gauge An extra part.\n# TYPE extra_gauge gauge\nextra_gauge 7\n',
      ],
    });
  });
  afterAll(async () => {
    await Promise.all([closed?.close(), open?.close()]);
    await Promise.all([healthy?.close(), tarpit?.close()]);
  });

  const probeUrl = (base: string, module: string, target: string) =>
    `${base}/probe?module=${module}&target=${encodeURIComponent(target)}`;

  it('needs the read role unless --metrics-public', async () => {
    const target = `http://127.0.0.1:${healthy.port}/`;
    expect((await getText(probeUrl(closed.url, 'http_2xx', target))).status).toBe(401);
    expect((await getText(`${closed.url}/metrics`)).status).toBe(401);
    const withToken = await getText(probeUrl(closed.url, 'http_2xx', target), {
      authorization: `Bearer ${READ}`,
    });
    expect(withToken.status).toBe(200);
    expect(sampleOf(withToken.text, 'probe_success')).toBe(1);
    expect(sampleOf(withToken.text, 'probe_http_status_code')).toBe(200);
    const publicProbe = await getText(probeUrl(open.url, 'http_2xx', target));
    expect(publicProbe.status).toBe(200);
    expect(sampleOf(publicProbe.text, 'probe_success')).toBe(1);
    const metrics = await getText(`${open.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(sampleOf(metrics.text, 'extra_gauge')).toBe(7); // a provider's part
    expect(sampleOf(metrics.text, 'fleetprobe_checks_in_flight')).toBe(0);
  });

  it("passes a page larger than the check's 64 KiB default, fails one cut at the module's maxBytes", async () => {
    const big = await startHttp({
      body: 'x'.repeat(300 * 1024),
      headers: { 'content-length': String(300 * 1024) },
    });
    try {
      const target = `http://127.0.0.1:${big.port}/`;
      const whole = await getText(probeUrl(open.url, 'http_2xx', target));
      expect(sampleOf(whole.text, 'probe_success')).toBe(1);
      expect(sampleOf(whole.text, 'probe_http_content_length')).toBe(300 * 1024);
      const cut = await getText(probeUrl(open.url, 'http_small', target));
      expect(sampleOf(cut.text, 'probe_success')).toBe(0);
      expect(sampleOf(cut.text, 'fleetprobe_probe_status', '{status="pass"}')).toBe(1);
    } finally {
      await big.close();
    }
  });

  it('resolves a named target through the engine, timing the lookup', async () => {
    const res = await getText(probeUrl(open.url, 'http_2xx', `http://localhost:${healthy.port}/`));
    expect(sampleOf(res.text, 'probe_success')).toBe(1);
    expect(sampleOf(res.text, 'probe_dns_lookup_time_seconds')).toBeGreaterThan(0);
    expect(sampleOf(res.text, 'probe_http_duration_seconds', '{phase="resolve"}')).toBeGreaterThan(0);
  });

  it('answers 400 for an unknown module or a missing target, 403 outside the allow-list', async () => {
    const h = { authorization: `Bearer ${READ}` };
    expect((await getText(probeUrl(closed.url, 'nope', '127.0.0.1:1'), h)).status).toBe(400);
    expect((await getText(`${closed.url}/probe?module=http_2xx`, h)).status).toBe(400);
    expect((await getText(probeUrl(closed.url, 'http_2xx', 'http://10.1.2.3/'), h)).status).toBe(403);
  });

  it('ends the probe at the scrape timeout less 0.5 s, as a failed probe', async () => {
    const res = await getText(probeUrl(open.url, 'slow', `127.0.0.1:${tarpit.port}`), {
      'x-prometheus-scrape-timeout-seconds': '1.5',
    });
    expect(res.status).toBe(200);
    expect(sampleOf(res.text, 'probe_success')).toBe(0);
    expect(sampleOf(res.text, 'fleetprobe_probe_status', '{status="timeout"}')).toBe(1);
    const seconds = sampleOf(res.text, 'probe_duration_seconds')!;
    // The deadline was 1 s (not the module's 10 s).
    expect(seconds).toBeGreaterThanOrEqual(0.99);
    expect(seconds).toBeLessThan(5);
  });
});

describe('the probe plugin alone', () => {
  it('answers 503 past maxInFlight, and takes probes again once one ends', async () => {
    const tarpit = await startTarpit();
    const app = Fastify();
    await app.register(probeRoutes, {
      modules: { held: { check: 'tcp', args: { expectBanner: '^never' }, timeout: 1000 } },
      registry: createBuiltinRegistry(),
      credentials: emptyCredentials(),
      role: 'public',
      maxInFlight: 1,
    });
    try {
      const url = `/probe?module=held&target=127.0.0.1:${tarpit.port}`;
      const first = app.inject({ method: 'GET', url });
      await tarpit.waitAccepted(1); // the first probe is in flight
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(503);
      expect((await first).statusCode).toBe(200);
      expect((await first).body).toMatch(/^probe_success 0$/m);
      await tarpit.waitAccepted(1);
      const again = await app.inject({ method: 'GET', url });
      expect(again.statusCode).toBe(200);
    } finally {
      await app.close();
      await tarpit.close();
    }
  });
});
