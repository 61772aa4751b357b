import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { startWorker, type Worker } from '../../src/distributed/worker.js';
import { startServer } from '../../src/server/start.js';
import { openStore } from '../../src/store/store.js';
import { NATS_URL, requireService } from '../helpers/services.js';
import { loopbackListener, natsFixture, silent } from './harness.js';
import { allResults } from './store-helpers.js';

const up = await requireService('NATS', 4222);
const TARGETS = 256;

describe.skipIf(!up)('fleetprobe server --nats restarted in the middle of a run', () => {
  let nats: Awaited<ReturnType<typeof natsFixture>>;
  let listener: Awaited<ReturnType<typeof loopbackListener>>;
  let worker: Worker;
  let dir: string;

  beforeAll(async () => {
    nats = await natsFixture();
    listener = await loopbackListener('banner', 40); // every check takes ~40 ms: the run lasts seconds
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleetprobe-restart-'));
    worker = await startWorker({
      natsUrl: NATS_URL,
      name: 'restart-test',
      registry: createBuiltinRegistry(),
      log: silent,
      prefix: nats.prefix,
      heartbeatMs: 100,
    });
  });
  afterAll(async () => {
    await worker?.drain(0);
    await listener?.close();
    await nats?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const start = () =>
    startServer({
      listen: '127.0.0.1:0',
      db: path.join(dir, 'runs.db'),
      tokens: [],
      log: silent,
      nats: NATS_URL,
      natsPrefix: nats.prefix,
    });

  it('the next server resumes the run: it ends done with exactly one result per target', async () => {
    const first = await start();
    const res = await fetch(`${first.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        check: 'tcp',
        targets: [`127.29.0.0/${32 - Math.log2(TARGETS)}`],
        args: { port: listener.port, expectBanner: '^SSH' },
        concurrency: 4,
      }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    // Stop the first server once some results are stored, well before the end.
    for (;;) {
      const run = (await (await fetch(`${first.url}/api/v1/runs/${id}`)).json()) as {
        counts: Record<string, number>;
      };
      if (run.counts.pass! >= 16) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await first.close({ graceMs: 0 });

    const store = await openStore(path.join(dir, 'runs.db'));
    const between = await store.getRun(id);
    const storedBefore = (await allResults(store, id)).length;
    await store.close();
    expect(between?.state).toBe('running'); // detached, not cancelled or interrupted

    const second = await start();
    const resumedAt = Date.now();
    try {
      // Progress shows within seconds: the worker went on meanwhile, its results wait in JetStream, and the
      // messages the first server held unacked are redelivered at once (not after their 30 s ack wait).
      let progressMs: number | undefined;
      for (;;) {
        const now = (await (await fetch(`${second.url}/api/v1/runs/${id}`)).json()) as {
          counts: Record<string, number>;
        };
        if ((now.counts.pass ?? 0) > storedBefore) {
          progressMs = Date.now() - resumedAt;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(progressMs).toBeLessThan(10_000);
      let run: { state: string; counts: Record<string, number> };
      for (;;) {
        run = (await (await fetch(`${second.url}/api/v1/runs/${id}`)).json()) as typeof run;
        if (run.state !== 'running' && run.state !== 'queued') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(run.state).toBe('done');
      expect(run.counts.pass).toBe(TARGETS);
      const seen = new Set<string>();
      let cursor: string | null = null;
      do {
        const page = (await (
          await fetch(`${second.url}/api/v1/runs/${id}/results?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
        ).json()) as { results: { target: string; status: string }[]; nextCursor: string | null };
        for (const r of page.results) {
          expect(seen.has(r.target)).toBe(false);
          seen.add(r.target);
          expect(r.status).toBe('pass');
        }
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen.size).toBe(TARGETS);
    } finally {
      await second.close({ graceMs: 0 });
    }
  }, 60_000);
});
