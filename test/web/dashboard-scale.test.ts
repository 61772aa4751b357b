import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCounts, type Result, type Status } from '../../src/engine/result.js';
import { foldAddresses } from '../../src/targets/fold.js';
import { api } from '../server/helpers.js';
import { newRun } from '../store/store-fixtures.js';
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

/**
 * A dns run of 250,000 results as a CDN fleet reports them: most pass; failures cluster (a PoP whose
 * resolver answers wrong, a rack that refuses, a slow link), so groups fold into few ranges.
 */
function resultAt(run: string, i: number): Result {
  const target = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const pop = `p${(i >> 12) % 20}`;
  let status: Status = 'pass';
  let message = 'NOERROR A 192.0.2.1';
  let reason = 'NOERROR A <answers>';
  if (i % 4096 < 300) {
    status = 'fail';
    message = `expected ${target}, got 192.0.2.${i & 255}`;
    reason = 'expected <expected>, got <answers>';
  } else if (i >= 100_000 && i < 104_000) {
    status = 'error';
    message = reason = 'connect ECONNREFUSED';
  } else if (i % 50_000 < 700) {
    status = 'timeout';
    message = 'timeout after 2000 ms';
    reason = 'timeout after <n> ms';
  }
  return {
    run,
    target,
    port: 53,
    name: `ns${i}.${pop}.example`,
    labels: { pop },
    check: 'dns',
    status,
    durationMs: 2,
    startedAt: new Date(1_700_000_000_000 + i).toISOString(),
    attempts: 1,
    message,
    reason,
    data: {},
  };
}

describe.skipIf(!existsSync(CHROMIUM))('dashboard at scale: a 250,000-result run', () => {
  let srv: DashboardServer;
  const id = `scale-${process.pid}`;
  const expected = new Map<string, string[]>(); // reason -> targets

  beforeAll(async () => {
    srv = await startDashboard();
    const counts = emptyCounts();
    for (let off = 0; off < N; off += 5000) {
      const batch = Array.from({ length: 5000 }, (_, k) => resultAt(id, off + k));
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
    await api(srv.url, 'GET', `/api/v1/runs/${id}/groups`); // warm the page cache
    const t0 = performance.now();
    const res = await api(srv.url, 'GET', `/api/v1/runs/${id}/groups`);
    const ms = performance.now() - t0;
    console.log(`groups of a 250,000-result run: ${ms.toFixed(0)} ms`);
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
      const t0 = Date.now();
      await page.goto(`${srv.url}/#/runs/${id}`);
      await page.locator('#results-table tbody tr[data-target]').first().waitFor();
      const ms = Date.now() - t0;
      console.log(`first rows of a 250,000-result run painted after ${ms} ms`);
      expect(ms).toBeLessThan(limitMs(1000));
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
