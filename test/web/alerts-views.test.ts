import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Json, startApi } from '../server/helpers.js';
import { CHROMIUM, launch, watchErrors } from './browser.js';
import { type DashboardServer, startDashboard } from './serve.js';

/**
 * The alerts and silences pages in Chromium against the real alert routes: alerts recorded in the server's
 * store (as the rule engine records them) are listed and filtered by state in the URL; an alert's "Silence"
 * opens a prefilled form; the silence is created, listed and ended.
 */
const hasChromium = existsSync(CHROMIUM);
const probe = await startApi();
const hasAlertRoutes = (await api(probe.url, 'GET', '/api/v1/alerts')).status !== 404;
await probe.close();
if (!hasAlertRoutes)
  console.warn('\n*** test/web/alerts-views.test.ts: this server has no /api/v1/alerts: SKIPPED ***\n');

const SHOT = (name: string) =>
  process.env.FLEETPROBE_SCREENSHOTS
    ? path.join(process.env.FLEETPROBE_SCREENSHOTS, `monitoring-${name}.png`)
    : `/tmp/fleetprobe-monitoring-${name}.png`;

const T0 = Date.now() - 3_600_000;
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const alert = (i: number, state: 'firing' | 'resolved') => ({
  fingerprint: `fp${i}`,
  monitor: 'edge',
  rule: 'target-down',
  kind: 'target' as const,
  labels: {
    alertname: 'target-down',
    monitor: 'edge',
    severity: 'critical',
    target: `127.42.0.${i}`,
    pop: i < 2 ? 'fra' : 'ams',
  },
  annotations: { description: `127.42.0.${i} is DOWN` },
  state,
  startsAt: iso(i),
  endsAt: state === 'resolved' ? iso(30) : null,
  silencedBy: null,
  inhibitedBy: null,
  updatedAt: iso(i),
});

const rowsOf = (page: Page, table: string) =>
  page.locator(`${table} tbody tr[data-${table === '#alerts-table' ? 'fingerprint' : 'silence'}]`);

describe.skipIf(!hasChromium || !hasAlertRoutes)('alerts and silences pages in a browser', () => {
  let srv: DashboardServer;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    srv = await startDashboard();
    // As the rule engine records them.
    await srv.store.alerts.recordAlerts([
      alert(0, 'firing'),
      alert(1, 'firing'),
      alert(2, 'firing'),
      alert(3, 'resolved'),
    ]);
    browser = await launch();
    page = await browser.context.newPage();
    await page.emulateMedia({ reducedMotion: 'reduce' });
    errors = watchErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('lists the alerts newest first, filters by state in the URL, links targets to their page', async () => {
    await page.goto(`${srv.url}/#/alerts`);
    const rows = rowsOf(page, '#alerts-table');
    await expect.poll(() => rows.count()).toBe(4);
    const listed = (await api(srv.url, 'GET', '/api/v1/alerts')).body as Json;
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-fingerprint')))).toEqual(
      listed.alerts.map((a: Json) => a.fingerprint),
    );
    await page.getByLabel('State', { exact: true }).selectOption('firing');
    await page.waitForURL((u) => u.hash === '#/alerts?state=firing');
    await expect.poll(() => rows.count()).toBe(3);
    expect(new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-state'))))).toEqual(
      new Set(['firing']),
    );
    expect(
      await page.locator('#alerts-table tr[data-fingerprint="fp1"] a.target-link').getAttribute('href'),
    ).toBe('#/targets/127.42.0.1?monitor=edge');
    await page.screenshot({ path: SHOT('alerts') });
  });

  it("an alert's Silence opens a prefilled form; the silence is listed, then ended", async () => {
    await page
      .locator('#alerts-table tr[data-fingerprint="fp1"]')
      .getByRole('link', { name: 'Silence' })
      .click();
    await page.waitForURL((u) => u.hash.startsWith('#/silences?'));
    expect(await page.getByLabel('Monitor', { exact: true }).inputValue()).toBe('edge');
    expect(await page.getByLabel('Label matchers', { exact: true }).inputValue()).toBe(
      'alertname="target-down"',
    );
    expect(await page.getByLabel('Targets', { exact: true }).inputValue()).toBe('127.42.0.1');
    await page.getByLabel('Comment', { exact: true }).fill('router swap in fra');
    await page.getByRole('button', { name: 'Create silence' }).click();
    const rows = rowsOf(page, '#silences-table');
    await expect.poll(() => rows.count()).toBe(1);
    const { silences } = (await api(srv.url, 'GET', '/api/v1/silences')).body as Json;
    expect(silences).toHaveLength(1);
    expect(silences[0]).toMatchObject({
      monitor: 'edge',
      targets: ['127.42.0.1'],
      comment: 'router swap in fra',
    });
    await expect(rows.first().locator('td').nth(1).textContent()).resolves.toBe('alertname="target-down"');
    await page.screenshot({ path: SHOT('silences') });

    await rows.first().getByRole('button', { name: 'End now' }).click();
    await expect.poll(() => rows.count()).toBe(0);
    expect(((await api(srv.url, 'GET', '/api/v1/silences')).body as Json).silences).toEqual([]);
    expect(errors).toEqual([]);
  });
});
