import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { ConfigHolder } from '../../src/config/config-holder.js';
import { intToIpv4, ipv4ToInt } from '../../src/sim/ipv4.js';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import { api, type Json } from '../server/helpers.js';
import { CHROMIUM, launch, watchErrors } from './browser.js';
import { type DashboardServer, startDashboard } from './serve.js';

/**
 * Issue 12, monitoring views: a real server with a running monitor over 300 simulated hosts labelled by PoP
 * (ams, fra, nyc: 100 each); 40 fra hosts are broken through the sim's fault control and go DOWN. Then the
 * monitor is paused so the counts hold still, and each view is checked in Chromium against the API.
 * Screenshots go to /tmp, or to $FLEETPROBE_SCREENSHOTS (`FLEETPROBE_SCREENSHOTS=docs/screenshots` renews
 * the README's).
 */
const hasChromium = existsSync(CHROMIUM);
const HOSTS = 300;
const BASE = '127.41.0.0';
const POPS = ['ams', 'fra', 'nyc'];
const BROKEN_FIRST = 100; // fra is hosts 100..199
const BROKEN = 40;
const addr = (i: number) => intToIpv4(ipv4ToInt(BASE) + i);
const broken = Array.from({ length: BROKEN }, (_, i) => addr(BROKEN_FIRST + i));
const byAddress = (a: string, b: string) => ipv4ToInt(a) - ipv4ToInt(b);
const SHOT = (name: string) =>
  process.env.FLEETPROBE_SCREENSHOTS
    ? path.join(process.env.FLEETPROBE_SCREENSHOTS, `monitoring-${name}.png`)
    : `/tmp/fleetprobe-monitoring-${name}.png`;

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function get(url: string, path: string): Promise<Json> {
  const r = await api(url, 'GET', path);
  expect(r.status, `GET ${path}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

/** The `data-target` of every row of the targets table. */
const shownTargets = (page: Page) =>
  page
    .locator('#targets-table tbody tr[data-target]')
    .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-target') ?? ''));

describe.skipIf(!hasChromium)('monitoring views in a browser (server + simulator + running monitor)', () => {
  let sim: Simulator;
  let srv: DashboardServer;
  let configDir: string | undefined;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    sim = await startSimulator({ hosts: HOSTS, base: BASE, protocols: ['tcp'], ports: { tcp: 0 } });
    const args = { port: sim.ports.tcp, expectBanner: '^fleetprobe-sim h[0-9]+' };
    // A monitor of the config file: read-only through the API and the dashboard. Paused: it never runs here.
    configDir = await mkdtemp(path.join(os.tmpdir(), 'fleetprobe-monviews-'));
    const file = path.join(configDir, 'fleetprobe.yaml');
    await writeFile(
      file,
      `monitors:
  - name: core
    check: tcp
    args: { port: ${sim.ports.tcp} }
    targets: [${addr(0)}, ${addr(1)}]
    interval: 1m
    paused: true
`,
    );
    const config = await ConfigHolder.load(file, { registry: createBuiltinRegistry() });
    srv = await startDashboard({ config });
    const created = await api(srv.url, 'POST', '/api/v1/monitors', {
      name: 'fleet',
      check: 'tcp',
      args,
      targets: Array.from({ length: HOSTS }, (_, i) => ({
        address: addr(i),
        name: `h${i}.sim.test`,
        labels: { pop: POPS[Math.floor(i / 100)] },
      })),
      interval: '1500ms',
      timeout: '3s', // generous: a healthy host missing its deadline on a busy machine would blur the counts
      downAfter: 2,
      labels: { team: 'edge' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await until(async () => {
      const m = await get(srv.url, '/api/v1/monitors/fleet');
      return m.status.states.UP === HOSTS ? true : undefined;
    }, 'every host UP');
    sim.faults.set({ range: `${broken[0]}-${broken.at(-1)}`, fault: 'refused', protocol: 'tcp' });
    await until(async () => {
      const m = await get(srv.url, '/api/v1/monitors/fleet');
      return m.status.states.DOWN === BROKEN ? true : undefined;
    }, `${BROKEN} hosts DOWN`);
    // Hold still: no round changes the counts while the views are checked.
    expect((await api(srv.url, 'POST', '/api/v1/monitors/fleet/pause')).status).toBe(200);
    await until(async () => {
      const m = await get(srv.url, '/api/v1/monitors/fleet');
      return m.status.running ? undefined : true;
    }, 'the last round to end');

    browser = await launch();
    page = await browser.context.newPage();
    await page.emulateMedia({ reducedMotion: 'reduce' });
    errors = watchErrors(page);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    await sim?.close();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  it('the heatmap API counts the targets per pop and state', async () => {
    const hm = await get(srv.url, '/api/v1/monitors/fleet/heatmap?by=pop');
    expect(hm).toMatchObject({ monitor: 'fleet', by: 'pop', total: HOSTS, truncated: false });
    expect(hm.keys).toEqual(['pop', 'team']);
    expect(hm.rows).toEqual([
      { value: 'ams', total: 100, states: { UP: 100, DOWN: 0, UNKNOWN: 0, FLAPPING: 0 } },
      { value: 'fra', total: 100, states: { UP: 100 - BROKEN, DOWN: BROKEN, UNKNOWN: 0, FLAPPING: 0 } },
      { value: 'nyc', total: 100, states: { UP: 100, DOWN: 0, UNKNOWN: 0, FLAPPING: 0 } },
    ]);
    const bad = await api(srv.url, 'GET', '/api/v1/monitors/fleet/heatmap?by=no%20such');
    expect(bad.status).toBe(400);
    expect((await api(srv.url, 'GET', '/api/v1/monitors/nope/heatmap')).status).toBe(404);
  });

  it('fleet page: each monitor with its counts by state, and the pop × state heatmap', async () => {
    await page.goto(`${srv.url}/#/fleet`);
    const fleet = page.locator('section.monitor-card[data-monitor="fleet"]');
    await fleet.locator('table.heatmap').waitFor();
    expect(await page.locator('#fleet-by').inputValue()).toBe('pop'); // the first label key by default
    const chip = (s: string) => fleet.locator(`.state-chip[data-state="${s}"]`).getAttribute('data-count');
    expect(await chip('UP')).toBe(String(HOSTS - BROKEN));
    expect(await chip('DOWN')).toBe(String(BROKEN));
    expect(await chip('FLAPPING')).toBe('0');
    const cell = (pop: string, s: string) =>
      fleet.locator(`tr[data-value="${pop}"] td[data-state="${s}"]`).getAttribute('data-count');
    expect(await cell('ams', 'UP')).toBe('100');
    expect(await cell('fra', 'UP')).toBe(String(100 - BROKEN));
    expect(await cell('fra', 'DOWN')).toBe(String(BROKEN));
    expect(await cell('nyc', 'DOWN')).toBe('0');
    const core = page.locator('section.monitor-card[data-monitor="core"]');
    await expect(core.getByText('paused').count()).resolves.toBe(1);
    await page.screenshot({ path: SHOT('fleet'), fullPage: true });
  });

  it('a heatmap cell drills into the matching targets, paged; filters are in the URL', async () => {
    await page
      .locator('section.monitor-card[data-monitor="fleet"] tr[data-value="fra"] td[data-state="DOWN"] a')
      .click();
    await page.waitForURL((u) => u.hash.startsWith('#/monitors/fleet?'));
    const q = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
    expect(Object.fromEntries(q)).toMatchObject({ state: 'DOWN', 'label.pop': 'fra', by: 'pop' });
    await expect.poll(() => shownTargets(page)).toEqual(broken);
    const states = await page
      .locator('#targets-table tbody tr[data-target]')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-state')));
    expect(new Set(states)).toEqual(new Set(['DOWN']));
    expect(await page.locator('#tg-matches').getAttribute('data-count')).toBe(String(BROKEN));
    expect(await page.locator('#tg-state').inputValue()).toBe('DOWN');
    expect(await page.locator('#tg-labels').inputValue()).toBe('pop=fra');
    await page.screenshot({ path: SHOT('monitor') }); // the viewport: the first rows are enough

    // UP targets, 50 a page: pages follow the API's cursor and never hold more than one page of rows.
    await page.goto(`${srv.url}/#/monitors/fleet?state=UP&limit=50`);
    await expect.poll(() => shownTargets(page).then((t) => t.length)).toBe(50);
    expect(await page.locator('#tg-matches').getAttribute('data-count')).toBe(String(HOSTS - BROKEN));
    const seen: string[] = [];
    for (;;) {
      const rows = await shownTargets(page);
      expect(rows.length).toBeLessThanOrEqual(50);
      seen.push(...rows);
      const next = page.locator('#tg-next');
      if ((await next.count()) === 0) break;
      const cursor = new URLSearchParams((await next.getAttribute('href'))?.split('?')[1]).get('cursor');
      await next.click();
      // The next page is painted (not the empty table of the view being mounted).
      await expect.poll(() => page.locator('#targets-table tbody').getAttribute('data-cursor')).toBe(cursor);
    }
    const up = Array.from({ length: HOSTS }, (_, i) => addr(i)).filter((a) => !broken.includes(a));
    expect([...seen].sort(byAddress)).toEqual(up);
    expect(new Set(seen).size).toBe(seen.length);

    // A label filter typed in the form goes into the URL too.
    await page.getByLabel('State', { exact: true }).selectOption('');
    await page.waitForURL((u) => !u.hash.includes('state='));
    await expect.poll(() => page.locator('#tg-matches').getAttribute('data-count')).toBe(String(HOSTS));
    await page.getByLabel('Labels', { exact: true }).fill('pop=nyc');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((u) => u.hash.includes('label.pop=nyc'));
    await expect.poll(() => page.locator('#tg-matches').getAttribute('data-count')).toBe('100');
  });

  it('target page: the transition to DOWN, the state timeline, uptime and the latency sparkline; run results link to it', async () => {
    await page.goto(`${srv.url}/#/monitors/fleet?state=DOWN&label.pop=fra`);
    await expect.poll(() => shownTargets(page).then((t) => t[0])).toBe(broken[0]);
    await page.locator(`#targets-table tr[data-target="${broken[0]}"] a.target-link`).click();
    await page.waitForURL((u) => u.hash.startsWith(`#/targets/${broken[0]}`));
    const section = page.locator('section.target-monitor[data-monitor="fleet"]');
    await section.waitFor();
    expect(await section.getAttribute('data-state')).toBe('DOWN');

    const history = await get(srv.url, `/api/v1/targets/${broken[0]}/history?monitor=fleet`);
    const t = history.monitors[0].transitions[0];
    expect(t).toMatchObject({ from: 'UP', to: 'DOWN', status: 'error' });
    const rows = section.locator('table.transitions tbody tr');
    await expect(rows.count()).resolves.toBe(history.monitors[0].transitions.length);
    expect(await rows.first().getAttribute('data-from')).toBe('UP');
    expect(await rows.first().getAttribute('data-to')).toBe('DOWN');
    await expect(rows.first().locator('td').nth(4).textContent()).resolves.toBe(t.message);
    // Timeline: UP, then DOWN until now.
    const segs = await section
      .locator('.timeline .seg')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(segs).toEqual(['UP', 'DOWN']);
    // Uptime: what the API says, shown as a percentage below 100 %.
    const h24 = history.monitors[0].uptime.h24 as number;
    expect(h24).toBeGreaterThan(0);
    expect(h24).toBeLessThan(1);
    await expect(section.locator('[data-window="h24"] dd').textContent()).resolves.toBe(
      `${(h24 * 100).toFixed(2)} %`,
    );
    expect(Number(await section.locator('#latency').getAttribute('data-points'))).toBe(
      history.monitors[0].latency.filter((p: Json) => p.latMeanMs !== null).length,
    );
    await page.screenshot({ path: SHOT('target'), fullPage: true });

    // The round that took it DOWN: its results link every target cell back to this page.
    await rows.first().locator('td').nth(5).locator('a').click();
    await page.waitForURL((u) => u.hash.startsWith(`#/runs/${t.run}`));
    await page.goto(`${srv.url}/#/runs/${t.run}?address=${broken[0]}`);
    const link = page.locator(`#results-table tr[data-target="${broken[0]}"] a.target-link`);
    await link.waitFor();
    await link.click();
    await page.waitForURL((u) => u.hash === `#/targets/${broken[0]}?monitor=fleet`);
    await page.locator('section.target-monitor[data-monitor="fleet"][data-state="DOWN"]').waitFor();
  });

  it('monitors page: list, create from the form, pause and resume, delete; config monitors are read-only', async () => {
    await page.goto(`${srv.url}/#/monitors`);
    const rows = page.locator('#monitors-table tbody tr[data-monitor]');
    await expect.poll(() => rows.count()).toBe(2);
    const core = page.locator('#monitors-table tr[data-monitor="core"]');
    expect(await core.getAttribute('data-source')).toBe('config');
    await expect(core.locator('.read-only').textContent()).resolves.toContain('config file');
    expect(await core.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    const fleet = page.locator('#monitors-table tr[data-monitor="fleet"]');
    expect(await fleet.getAttribute('data-paused')).toBe('true');
    await expect(fleet.locator('.state-chip[data-state="DOWN"]').getAttribute('data-count')).resolves.toBe(
      String(BROKEN),
    );

    await page.locator('#new-monitor summary').click();
    await page.getByLabel('Name', { exact: true }).fill('edge');
    await page.getByLabel('Check', { exact: true }).selectOption('tcp');
    await page
      .getByLabel('Targets', { exact: true })
      .fill(`${addr(200)}\n{"address":"${addr(201)}","labels":{"pop":"nyc"}}`);
    await page.getByLabel('Arguments', { exact: true }).fill(`port=${sim.ports.tcp}`);
    await page.getByLabel('Interval', { exact: true }).fill('1h');
    await page.screenshot({ path: SHOT('monitors'), fullPage: true });
    await page.getByRole('button', { name: 'Create monitor' }).click();
    await page.waitForURL((u) => u.hash.startsWith('#/monitors/edge'));
    const edge = await get(srv.url, '/api/v1/monitors/edge');
    expect(edge).toMatchObject({ source: 'api', check: 'tcp', intervalMs: 3_600_000, paused: false });

    await page.goto(`${srv.url}/#/monitors`);
    const row = page.locator('#monitors-table tr[data-monitor="edge"]');
    await row.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => row.getAttribute('data-paused')).toBe('true');
    expect((await get(srv.url, '/api/v1/monitors/edge')).status.paused).toBe(true);
    await row.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => row.getAttribute('data-paused')).toBe('false');

    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Yes, delete' }).click();
    await expect.poll(() => rows.count()).toBe(2);
    expect((await api(srv.url, 'GET', '/api/v1/monitors/edge')).status).toBe(404);
    expect(errors).toEqual([]);
  });
});
