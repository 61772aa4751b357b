import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCounts } from '../../src/engine/result.js';
import { openStore } from '../../src/store/index.js';
import { api, listeners, range, readEvents, startApi, type TestApi } from './helpers.js';

// A tarpit: accepts connections and never sends the banner the check waits for, so checks hang until
// cancelled (their deadline is 30 s).
const TARPIT = range('127.22.0', 32);
const slowRun = (port: number, targets = ['127.22.0.0/27']) => ({
  check: 'tcp',
  targets,
  args: { port, expectBanner: '^never' },
  timeoutMs: 30_000,
  concurrency: 16,
});

describe('run lifecycle', () => {
  let tarpit: Awaited<ReturnType<typeof listeners>>;
  let srv: TestApi;
  beforeAll(async () => {
    tarpit = await listeners(TARPIT, 'tarpit');
    srv = await startApi({ maxConcurrentRuns: 1 });
  });
  afterAll(async () => {
    await srv?.close();
    await tarpit?.close();
  });

  it('a cancelled run stops within a second; every target gets a stored result', async () => {
    const post = await api(srv.url, 'POST', '/api/v1/runs', slowRun(tarpit.port));
    const id = post.body.id as string;
    // Handshake: wait until the SSE stream shows checks in flight.
    await readEvents(
      `${srv.url}/api/v1/runs/${id}/events`,
      (e) => e.event === 'progress' && e.data.inFlight >= 16,
    );
    // A second run waits for the only slot.
    const queued = await api(srv.url, 'POST', '/api/v1/runs', slowRun(tarpit.port));
    expect((await api(srv.url, 'GET', `/api/v1/runs/${queued.body.id}`)).body.state).toBe('queued');

    const t0 = performance.now();
    const cancel = await api(srv.url, 'POST', `/api/v1/runs/${id}/cancel`);
    const elapsedMs = performance.now() - t0;
    expect(cancel.status).toBe(200);
    expect(cancel.body.state).toBe('cancelled');
    expect(elapsedMs).toBeLessThan(1000);
    const stored = await srv.store.getRun(id);
    expect(stored?.state).toBe('cancelled');
    expect(stored?.counts).toEqual({ ...emptyCounts(), cancelled: 32 });
    const results = await api(srv.url, 'GET', `/api/v1/runs/${id}/results?limit=100&status=cancelled`);
    expect(results.body.results).toHaveLength(32);

    // The queued run now runs; cancelling it works the same, and cancelling again is harmless.
    await readEvents(
      `${srv.url}/api/v1/runs/${queued.body.id}/events`,
      (e) => e.event === 'progress' && e.data.inFlight > 0,
    );
    expect((await api(srv.url, 'POST', `/api/v1/runs/${queued.body.id}/cancel`)).body.state).toBe(
      'cancelled',
    );
    expect((await api(srv.url, 'POST', `/api/v1/runs/${queued.body.id}/cancel`)).body.state).toBe(
      'cancelled',
    );
    const events = await readEvents(`${srv.url}/api/v1/runs/${queued.body.id}/events`);
    expect(events.map((e) => e.event)).toEqual(['progress', 'done']);
  });

  it('a queued run can be cancelled before it starts', async () => {
    const first = await api(srv.url, 'POST', '/api/v1/runs', slowRun(tarpit.port));
    const second = await api(srv.url, 'POST', '/api/v1/runs', slowRun(tarpit.port));
    const c = await api(srv.url, 'POST', `/api/v1/runs/${second.body.id}/cancel`);
    expect(c.body).toMatchObject({ state: 'cancelled', startedAt: null });
    await api(srv.url, 'POST', `/api/v1/runs/${first.body.id}/cancel`);
    expect((await srv.store.getRun(first.body.id))?.state).toBe('cancelled');
  });

  it('an SSE client that disconnects early does not disturb the run', async () => {
    const post = await api(srv.url, 'POST', '/api/v1/runs', slowRun(tarpit.port));
    const id = post.body.id as string;
    const first = await readEvents(
      `${srv.url}/api/v1/runs/${id}/events`,
      (e) => e.event === 'progress' && e.data.inFlight > 0,
    );
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect((await api(srv.url, 'GET', `/api/v1/runs/${id}`)).body.state).toBe('running');
    expect((await api(srv.url, 'POST', `/api/v1/runs/${id}/cancel`)).body.state).toBe('cancelled');
  });
});

describe('process lifecycle', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fp-life-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs left running by a dead process are marked interrupted at the next start', async () => {
    const url = join(dir, 'a.db');
    const store = await openStore(url);
    const base = {
      check: 'tcp',
      args: {},
      targets: { specs: ['127.0.0.1'] },
      options: { concurrency: 256, retries: 0 },
      monitor: null,
      owner: null,
      total: 1,
      counts: emptyCounts(),
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      error: null,
    };
    await store.createRun({
      ...base,
      id: 'was-running',
      state: 'running',
      startedAt: new Date().toISOString(),
    });
    await store.createRun({ ...base, id: 'was-done', state: 'done' });
    await store.close();

    const srv = await startApi({ store: await openStore(url) });
    try {
      const r = await api(srv.url, 'GET', '/api/v1/runs/was-running');
      expect(r.body.state).toBe('interrupted');
      expect(r.body.finishedAt).not.toBeNull();
      expect((await api(srv.url, 'GET', '/api/v1/runs/was-done')).body.state).toBe('done');
    } finally {
      await srv.close();
    }
  });

  it('graceful shutdown: refuses new runs, cancels runs still going after the grace period, writes their final state', async () => {
    const tarpit = await listeners(['127.22.1.1'], 'tarpit');
    const url = join(dir, 'b.db');
    const srv = await startApi({ store: await openStore(url) });
    try {
      const post = await api(srv.url, 'POST', '/api/v1/runs', slowRun(tarpit.port, ['127.22.1.1']));
      const id = post.body.id as string;
      await tarpit.onConnection;
      const closing = srv.manager.close({ graceMs: 50 });
      const refused = await api(srv.url, 'POST', '/api/v1/runs', slowRun(tarpit.port, ['127.22.1.1']));
      expect(refused.status).toBe(503);
      await closing;
      const run = await srv.store.getRun(id);
      expect(run).toMatchObject({ state: 'cancelled', counts: { cancelled: 1 } });
    } finally {
      await srv.close();
      await tarpit.close();
    }
  });
});
