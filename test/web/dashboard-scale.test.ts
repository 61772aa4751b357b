import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCounts } from '../../src/engine/result.js';
import { foldAddresses } from '../../src/targets/fold.js';
import { api } from '../server/helpers.js';
import { newRun } from '../store/store-fixtures.js';
import { scaleRunResult } from './scale-run.js';
import { type DashboardServer, startDashboard } from './serve.js';

const CHROMIUM = '/usr/bin/chromium';
const N = 250_000;
const SCREENSHOT = '/tmp/fleetprobe-dashboard-250k.png';

/**
 * The targets are 500 ms (groups) and 1 s (first rows) on an idle machine. The suite runs on a
 * shared 2-core machine, so by default the bound is 3x the target (still catching a regression to the old
 * "load everything" behaviour); FLEETPROBE_PERF_STRICT=1 asserts the targets themselves. Both print the time.
 */
const limitMs = (target: number) => (process.env.FLEETPROBE_PERF_STRICT === '1' ? target : target * 3);

describe.skipIf(!existsSync(CHROMIUM))('dashboard at scale: a 250,000-result run', () => {
  let srv: DashboardServer;
  const id = `scale-${process.pid}`;
  const expected = new Map<string, string[]>(); // reason -> targets

  beforeAll(async () => {
    srv = await startDashboard();
    const counts = emptyCounts();
    for (let off = 0; off < N; off += 5000) {
      const batch = Array.from({ length: 5000 }, (_, k) => scaleRunResult(id, off + k));
      for (const r of batch) {
        counts[r.status]++;
        if (r.status !== 'pass') {
          const reason = r.status === 'timeout' ? 'timeout after <n> ms' : r.reason!;
          const list = expected.get(reason) ?? [];
          list.push(r.target);
          expected.set(reason, list);
        }
      }
      if (off === 0)
        await srv.store.createRun(
          newRun({
            id,
            check: 'dns',
            args: { type: 'A' },
            targets: { specs: ['10.0.0.0/14'] },
            state: 'running',
            total: N,
            counts,
            startedAt: new Date().toISOString(),
          }),
        );
      await srv.store.insertResults(batch);
    }
    await srv.store.updateRun(id, { state: 'done', counts, finishedAt: new Date().toISOString() });
  }, 180_000);
  afterAll(async () => {
    await srv?.close();
  });

  it('answers its failure groups in under 500 ms, folded', async () => {
    // The first call counts the groups from the results and keeps them with the run (it is over); the
    // dashboard's later views read them back.
    let t0 = performance.now();
    const first = await api(srv.url, 'GET', `/api/v1/runs/${id}/groups`);
    const firstMs = performance.now() - t0;
    t0 = performance.now();
    const res = await api(srv.url, 'GET', `/api/v1/runs/${id}/groups`);
    const ms = performance.now() - t0;
    console.log(
      `groups of a 250,000-result run: ${ms.toFixed(0)} ms (first call, counted: ${firstMs.toFixed(0)} ms)`,
    );
    expect(res.body).toEqual(first.body);
    const want = [...expected.entries()]
      .map(([reason, targets]) => ({ reason, count: targets.length, targets: foldAddresses(targets) }))
      .sort((a, b) => b.count - a.count);
    expect(
      res.body.groups.map((g: { count: number; reason: string; targets: string[] }) => ({
        reason: g.reason,
        count: g.count,
        targets: g.targets,
      })),
    ).toEqual(want);
    expect(
      res.body.groups.find((g: { reason: string }) => g.reason === 'connect ECONNREFUSED').targets,
    ).toHaveLength(7); // 4,000 addresses in 7 items
    expect(ms).toBeLessThan(limitMs(500));
  });

  it('paints the first rows of its page in under 1 s, with never more than one page in the DOM', async () => {
    const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'fleetprobe-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1366, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
    try {
      const page = await context.newPage();
      await page.goto(`${srv.url}/`); // the modules are cached: the run page is what is measured
      await page.locator('#runs-table').waitFor();
      // Timed in the page: from the navigation (hashchange) to the frame after the first rows are in the
      // table. The test's own round trips to Chromium (seconds on a loaded machine) are printed apart.
      await page.evaluate(`
        window.addEventListener('hashchange', () => (window.fpNavAt = performance.now()), { once: true });
        const seen = new MutationObserver(() => {
          if (!document.querySelector('#results-table tbody tr[data-target]')) return;
          seen.disconnect();
          requestAnimationFrame(() => (window.fpPaintAt = performance.now()));
        });
        seen.observe(document.body, { childList: true, subtree: true });
      `);
      const t0 = Date.now();
      await page.goto(`${srv.url}/#/runs/${id}`);
      await page.locator('#results-table tbody tr[data-target]').first().waitFor();
      const wallMs = Date.now() - t0;
      const painted = await page.waitForFunction(
        'window.fpPaintAt !== undefined && window.fpNavAt !== undefined && window.fpPaintAt - window.fpNavAt',
      );
      const paintMs = Number(await painted.jsonValue());
      console.log(
        `first rows of a 250,000-result run painted ${paintMs.toFixed(0)} ms after the navigation (${wallMs} ms as the test sees it)`,
      );
      expect(paintMs).toBeLessThan(limitMs(1000));
      await expect.poll(() => page.locator('#results').getAttribute('data-total')).toBe(String(N));
      await page.locator('#groups-list li').first().waitFor();
      await page.screenshot({ path: SCREENSHOT });
      await page.getByLabel('Per page', { exact: true }).selectOption('500');
      await expect.poll(() => page.locator('#results-table tbody tr').count()).toBe(500);
      for (let i = 0; i < 3; i++) {
        await page.locator('#rs-next').click();
        await expect.poll(() => page.locator('#rs-page').textContent()).toBe(`page ${i + 2}`);
      }
      expect(await page.locator('#results-table tbody tr').count()).toBe(500);
      expect(await page.locator('*').count()).toBeLessThan(10_000);
    } finally {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    }
  });
});
