import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Json, listeners, range } from '../server/helpers.js';
import { CHROMIUM, launch, watchErrors } from './browser.js';
import { type DashboardServer, startDashboard } from './serve.js';

const hasChromium = existsSync(CHROMIUM);
const SCREENSHOT = '/tmp/fleetprobe-dashboard.png';
const SCREENSHOT_RUNS = '/tmp/fleetprobe-dashboard-runs.png';
const SCREENSHOT_LIVE = '/tmp/fleetprobe-dashboard-live.png';
const SCREENSHOT_FORM = '/tmp/fleetprobe-dashboard-form.png';
const SCREENSHOT_GROUPS = '/tmp/fleetprobe-dashboard-groups.png';

if (!hasChromium) {
  console.warn(
    `\n*** test/web/dashboard.test.ts: ${CHROMIUM} is missing: the browser tests are SKIPPED ` +
      '(apt-get install -y chromium). Under CI=true this is a failure. ***\n',
  );
}

// 32 loopback hosts 127.23.0.0/27: listeners on the first 24 (pass), nothing on the last 8 (refused: error).
const NET = '127.23.0.0/27';
const OPEN = range('127.23.0', 24);
const OPERATE_TOKEN = 'operate-token-for-the-dashboard-test';

const runIdOf = (page: Page) => decodeURIComponent(new URL(page.url()).hash.replace(/^#\/runs\//, ''));

async function shownCounts(page: Page): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of ['pass', 'fail', 'error', 'timeout', 'cancelled'])
    out[s] = Number((await page.locator(`#count-${s}`).textContent())?.replace(/,/g, ''));
  return out;
}

if (!hasChromium && process.env.CI === 'true') {
  describe('dashboard in a browser', () => {
    it('needs /usr/bin/chromium under CI (add chromium to the apt list of .ci/run)', () => {
      throw new Error(`${CHROMIUM} is missing under CI=true`);
    });
  });
}

describe.skipIf(!hasChromium)('dashboard in a browser (open local server)', () => {
  let srv: DashboardServer;
  let fleet: Awaited<ReturnType<typeof listeners>>;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  let errors: string[];
  let firstRun: string;
  let secondRun: string;

  beforeAll(async () => {
    fleet = await listeners(OPEN);
    srv = await startDashboard({ maxConcurrentRuns: 4 });
    browser = await launch();
    page = await browser.context.newPage();
    // No bar transitions: screenshots show the final widths.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    errors = watchErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    await fleet?.close();
  });

  it('submits a tcp run from the form and follows it live to done; the counts match the API', async () => {
    await page.goto(`${srv.url}/`);
    await expect.poll(() => page.locator('#runs-table .empty').count()).toBe(1);
    await page.getByRole('link', { name: 'New run', exact: true }).first().click();
    await page.getByLabel('Check', { exact: true }).selectOption('tcp');
    await page.getByLabel('Targets', { exact: true }).fill(NET);
    await page.getByLabel('Arguments', { exact: true }).fill(`port=${fleet.port}`);
    await page.getByLabel('Concurrency', { exact: true }).fill('4');
    // ~3 s of work at 10 checks/s, so the live view sees the run in flight.
    await page.getByLabel('Rate (checks/s)', { exact: true }).fill('10');
    await page.screenshot({ path: SCREENSHOT_FORM });
    await page.getByRole('button', { name: 'Start run' }).click();

    await page.waitForURL(/#\/runs\/[0-9a-f-]+$/);
    firstRun = runIdOf(page);
    await page.locator('#progress[data-final="done"]').waitFor({ timeout: 30_000 });
    await expect(page.locator('#progress').getAttribute('data-saw-live')).resolves.toBe('true');
    expect(Number(await page.locator('#progress').getAttribute('data-events'))).toBeGreaterThanOrEqual(2);

    const run = (await api(srv.url, 'GET', `/api/v1/runs/${firstRun}`)).body as Json;
    expect(run).toMatchObject({ state: 'done', total: 32, counts: { pass: 24, error: 8 } });
    expect(await shownCounts(page)).toEqual(run.counts);
    expect(await page.locator('#progress').getAttribute('data-done')).toBe('32');
    await expect(page.locator('h1 .badge').getAttribute('data-state')).resolves.toBe('done');
    expect(await page.locator('#cancel-run').isHidden()).toBe(true);
  });

  it('pages the results with keyset pages and filters them; the filters live in the URL', async () => {
    const rows = page.locator('#results-table tbody tr[data-target]');
    await expect.poll(() => rows.count()).toBe(32);
    await expect.poll(() => page.locator('#results').getAttribute('data-total')).toBe('32');
    await page.getByLabel('Per page', { exact: true }).selectOption('20');
    await expect.poll(() => rows.count()).toBe(20);
    const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-target')));
    await page.locator('#rs-next').click();
    await expect.poll(() => rows.count()).toBe(12); // one page in the DOM at a time
    expect(await page.locator('#rs-next').isDisabled()).toBe(true);
    const secondPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-target')));
    await page.locator('#rs-prev').click();
    await expect
      .poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-target'))))
      .toEqual(firstPage);

    const all = (await api(srv.url, 'GET', `/api/v1/runs/${firstRun}/results?limit=100`)).body as Json;
    expect([...firstPage, ...secondPage]).toEqual(all.results.map((r: Json) => r.target));

    await page.getByLabel('Status', { exact: true }).selectOption('error');
    await expect.poll(() => rows.count()).toBe(8);
    await expect.poll(() => page.locator('#rs-info').textContent()).toBe('8 matching results');
    const statuses = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')));
    expect(new Set(statuses)).toEqual(new Set(['error']));

    await page.getByLabel('Status', { exact: true }).selectOption('');
    await page.getByLabel('Message', { exact: true }).fill('REFUSED');
    await page.getByLabel('Address', { exact: true }).fill('127.23.0.24/30');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count()).toBe(4);
    expect(new URL(page.url()).hash).toContain('text=REFUSED');
    expect(new URL(page.url()).hash).toContain(`address=${encodeURIComponent('127.23.0.24/30')}`);

    // The URL is shareable: opening it elsewhere shows the same filtered results.
    const other = await browser.context.newPage();
    await other.goto(page.url());
    const otherRows = other.locator('#results-table tbody tr[data-target]');
    await expect.poll(() => otherRows.count()).toBe(4);
    await expect(other.getByLabel('Message', { exact: true }).inputValue()).resolves.toBe('REFUSED');
    await other.close();

    await page.getByLabel('Message', { exact: true }).fill('');
    await page.getByLabel('Address', { exact: true }).fill('127.23.0.5');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await expect(rows.first().getAttribute('data-status')).resolves.toBe('pass');
  });

  it('shows the failure groups; clicking one filters the results to it; export honours the filters', async () => {
    const groups = page.locator('#groups-list li');
    await expect.poll(() => groups.count()).toBe(1);
    await expect(groups.first().getAttribute('data-count')).resolves.toBe('8');
    await expect(groups.first().textContent()).resolves.toContain('127.23.0.24/29');
    await page.getByLabel('Address', { exact: true }).fill('');
    await groups.first().locator('.group-title').click();
    const rows = page.locator('#results-table tbody tr[data-target]');
    await expect.poll(() => rows.count()).toBe(8);
    expect(new URL(page.url()).hash).toContain('reason=connect+ECONNREFUSED');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#rs-export-csv').click(),
    ]);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 8);
    for (const l of lines.slice(1)) {
      expect(l).toContain(',error,');
      expect(l).toContain(',connect ECONNREFUSED,connect ECONNREFUSED,'); // message, reason
    }
    await page.screenshot({ path: SCREENSHOT_GROUPS, fullPage: true });
  });

  it('runs again from the prefilled form and shows the diff against the previous run', async () => {
    await fleet.close(range('127.23.0', 4)); // 127.23.0.0-3 now refuse: pass -> error
    await page.getByRole('link', { name: 'Run again' }).click();
    await expect.poll(() => page.getByLabel('Targets', { exact: true }).inputValue()).toBe(NET);
    // The run's validated arguments: the given port plus the check's defaults.
    expect((await page.getByLabel('Arguments', { exact: true }).inputValue()).split('\n')).toContain(
      `port=${fleet.port}`,
    );
    await page.getByLabel('Rate (checks/s)', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL((url) => /#\/runs\//.test(url.hash) && !url.hash.includes(firstRun));
    secondRun = runIdOf(page);
    await page.locator('#progress[data-final="done"]').waitFor({ timeout: 30_000 });

    await expect.poll(() => page.locator('#df-base').inputValue()).toBe(firstRun);
    await expect.poll(() => page.locator('#df-regressed').textContent()).toBe('4');
    await expect(page.locator('#df-unchanged').textContent()).resolves.toBe('28');
    const changes = page.locator('#diff-table tbody tr[data-target]');
    await expect.poll(() => changes.count()).toBe(4);
    const targets = await changes.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-target')));
    expect(targets).toEqual(range('127.23.0', 4));
    const api4 = (await api(srv.url, 'GET', `/api/v1/runs/${firstRun}/diff/${secondRun}`)).body as Json;
    expect(api4.changes).toHaveLength(4);
    expect(api4.changes.every((c: Json) => c.from === 'pass' && c.to === 'error')).toBe(true);
    await expect(changes.first().locator('td').nth(2).textContent()).resolves.toBe('pass');
    await expect(changes.first().locator('td').nth(3).textContent()).resolves.toBe('connected');
    await expect(changes.first().locator('td').nth(4).textContent()).resolves.toBe('error');
    await expect(changes.first().locator('td').nth(5).textContent()).resolves.toBe('connect ECONNREFUSED');
    expect(await shownCounts(page)).toMatchObject({ pass: 20, error: 12 });

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('cancels a running run with the cancel button', async () => {
    const post = await api(srv.url, 'POST', '/api/v1/runs', {
      check: 'tcp',
      targets: [NET],
      args: { port: fleet.port },
      concurrency: 2,
      rate: 2, // 16 s of work: plenty of time to press cancel
    });
    expect(post.status).toBe(202);
    await page.goto(`${srv.url}/#/runs/${post.body.id}`);
    await page.locator('#progress[data-saw-live="true"]').waitFor();
    await page.screenshot({ path: SCREENSHOT_LIVE });
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('#progress[data-final="cancelled"]').waitFor({ timeout: 20_000 });
    const run = (await api(srv.url, 'GET', `/api/v1/runs/${post.body.id}`)).body as Json;
    expect(run.state).toBe('cancelled');
    expect(run.counts.cancelled).toBeGreaterThan(0);
    expect(await shownCounts(page)).toEqual(run.counts);
  });

  it('lists the runs with their state, counts and total', async () => {
    await page.goto(`${srv.url}/#/`);
    const rows = page.locator('#runs-table tbody tr[data-run]');
    await expect.poll(() => rows.count()).toBe(3);
    const first = page.locator(`#runs-table tr[data-run="${firstRun}"]`);
    await expect(first.getAttribute('data-state')).resolves.toBe('done');
    await expect(first.locator('[role="img"]').getAttribute('aria-label')).resolves.toContain('24 pass');
    await expect(first.locator('td').nth(4).textContent()).resolves.toBe('32');
    await page.screenshot({ path: SCREENSHOT_RUNS, fullPage: true });
    expect(errors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('dashboard in a browser (server with tokens)', () => {
  let srv: DashboardServer;
  let fleet: Awaited<ReturnType<typeof listeners>>;
  let browser: Awaited<ReturnType<typeof launch>>;

  beforeAll(async () => {
    fleet = await listeners(range('127.23.1', 4));
    srv = await startDashboard({ auth: { tokens: [{ token: OPERATE_TOKEN, role: 'operate' }] } });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    await fleet?.close();
  });

  it('asks for a token, then sends it on API calls and on the event stream', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/`);
    await page.getByRole('alert').filter({ hasText: /token/i }).waitFor();
    await page.getByLabel('API token', { exact: true }).fill(OPERATE_TOKEN);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#runs-table .empty').count()).toBe(1);
    expect(await page.locator('#notice').isHidden()).toBe(true);

    await page.goto(`${srv.url}/#/new`);
    await page.getByLabel('Targets', { exact: true }).fill('127.23.1.0/30');
    await page.getByLabel('Arguments', { exact: true }).fill(`port=${fleet.port}`);
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/#\/runs\//);
    await page.locator('#progress[data-final="done"]').waitFor({ timeout: 30_000 });
    const id = runIdOf(page);
    const run = (await api(srv.url, 'GET', `/api/v1/runs/${id}`, undefined, OPERATE_TOKEN)).body as Json;
    expect(run.counts).toMatchObject({ pass: 4 });
    expect(await shownCounts(page)).toEqual(run.counts);
    await page.close();
  });
});
