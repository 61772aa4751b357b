import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JetStreamExecutor } from '../../src/distributed/coordinator.js';
import type { Heartbeat } from '../../src/distributed/messages.js';
import { WorkersRegistry } from '../../src/distributed/workers-registry.js';
import { requireService } from '../helpers/services.js';
import {
  ingest,
  loopbackListener,
  natsFixture,
  newRunId,
  spawnWorker,
  stopWorkers,
  tcpRun,
  testExecutor,
  type WorkerProcess,
  watchHeartbeats,
} from './harness.js';
import { allResults, createRunRecord, expectOnePerTarget, tempStore } from './store-helpers.js';

const up = await requireService('NATS', 4222);
const TOTAL = 1024;
const DRAIN_TOTAL = 128;

describe.skipIf(!up)('distributed runs under faults', () => {
  let nats: Awaited<ReturnType<typeof natsFixture>>;
  let db: Awaited<ReturnType<typeof tempStore>>;
  let workers: WorkerProcess[] = [];
  const executors: JetStreamExecutor[] = [];
  const closers: (() => Promise<void>)[] = [];

  const executor = async () => {
    const e = await testExecutor(nats, { ackWaitMs: 2000 });
    executors.push(e);
    return e;
  };
  const startWorkers = async (n: number) => {
    workers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        spawnWorker(nats.prefix, `w${i + 1}`, [
          '--ack-wait',
          '2s',
          '--concurrency',
          '8',
          '--heartbeat',
          '200ms',
        ]),
      ),
    );
  };

  beforeAll(async () => {
    nats = await natsFixture();
    db = await tempStore();
  });
  afterEach(async () => {
    for (const e of executors.splice(0)) await e.close();
    await stopWorkers(workers);
    workers = [];
    for (const c of closers.splice(0)) await c();
  });
  afterAll(async () => {
    await db?.cleanup();
    await nats?.cleanup();
  });

  it('kill -9 of a worker mid-run still ends with exactly one result per target', async () => {
    const listener = await loopbackListener('banner', 20);
    closers.push(listener.close);
    const holding = new Map<string, number>();
    closers.push(watchHeartbeats(nats, (hb) => holding.set(hb.name, hb.shards)));
    await startWorkers(3);
    const runId = newRunId();
    await createRunRecord(db.store, runId, 'tcp', TOTAL);
    const e = await executor();
    let killed: WorkerProcess | undefined;
    const yielded = await ingest(
      e.execute(
        { id: runId },
        tcpRun({
          port: listener.port,
          base: '127.23.0.0',
          total: TOTAL,
          concurrency: 8,
          timeoutMs: 5000,
          expectBanner: '^SSH-',
        }),
        new AbortController().signal,
      ),
      db.store,
      async (_r, n) => {
        // Mid-run, kill a worker whose last heartbeat says it holds shards: they must be redelivered.
        const victim = workers.find((w) => (holding.get(w.name) ?? 0) > 0);
        if (n >= 100 && !killed && victim) {
          killed = victim;
          killed.child.kill('SIGKILL');
          await killed.exited;
        }
      },
    );
    expect(killed).toBeDefined();
    expect(yielded).toBeGreaterThanOrEqual(TOTAL);
    await expectOnePerTarget(db.store, runId, TOTAL, 'pass');
  }, 120_000); // ~10 s idle; the 5 s lease and process start-ups stretch under load

  it('SIGTERM drains a worker: it hands its shards back, exits 0, and the run still gets one result per target', async () => {
    // Each check takes 200 ms and a shard holds 32 targets at concurrency 8: a 150 ms grace cannot finish it.
    const listener = await loopbackListener('banner', 200);
    closers.push(listener.close);
    const holding = new Map<string, number>();
    closers.push(watchHeartbeats(nats, (hb) => holding.set(hb.name, hb.shards)));
    workers = await Promise.all(
      ['w1', 'w2'].map((n) =>
        spawnWorker(nats.prefix, n, [
          '--ack-wait',
          '2s',
          '--concurrency',
          '8',
          '--heartbeat',
          '200ms',
          '--drain-grace',
          '150ms',
        ]),
      ),
    );
    const runId = newRunId();
    await createRunRecord(db.store, runId, 'tcp', DRAIN_TOTAL);
    const e = await executor();
    let drained: WorkerProcess | undefined;
    let exit: Promise<number | string> | undefined;
    await ingest(
      e.execute(
        { id: runId },
        tcpRun({
          port: listener.port,
          base: '127.27.0.0',
          total: DRAIN_TOTAL,
          concurrency: 8,
          timeoutMs: 5000,
          expectBanner: '^SSH-',
        }),
        new AbortController().signal,
      ),
      db.store,
      async (_r, n) => {
        const victim = workers.find((w) => (holding.get(w.name) ?? 0) > 0);
        if (n >= 8 && !drained && victim) {
          drained = victim;
          victim.child.kill('SIGTERM');
          exit = victim.exited;
        }
      },
    );
    expect(drained).toBeDefined();
    expect(await exit).toBe(0);
    expect(drained!.logs.some((l) => l.includes('"shard handed back on drain"'))).toBe(true);
    await expectOnePerTarget(db.store, runId, DRAIN_TOTAL, 'pass');
  });

  it('a coordinator restart mid-run resumes the run', async () => {
    const listener = await loopbackListener('banner', 20);
    closers.push(listener.close);
    await startWorkers(2);
    const runId = newRunId();
    await createRunRecord(db.store, runId, 'tcp', TOTAL);
    const spec = () =>
      tcpRun({
        port: listener.port,
        base: '127.24.0.0',
        total: TOTAL,
        concurrency: 8,
        timeoutMs: 5000,
        expectBanner: '^SSH-',
      });
    const first = await executor();
    let n = 0;
    for await (const r of first.execute({ id: runId }, spec(), new AbortController().signal)) {
      await db.store.insertResults([r]);
      if (++n === 300) break; // the coordinator goes away mid-run (detach: the run stays in JetStream)
    }
    await first.close();
    expect((await allResults(db.store, runId)).length).toBeLessThan(TOTAL);

    const second = await executor();
    expect(await second.resumableRuns()).toContain(runId);
    await ingest(second.execute({ id: runId }, spec(), new AbortController().signal), db.store);
    await expectOnePerTarget(db.store, runId, TOTAL, 'pass');
    expect(await second.resumableRuns()).not.toContain(runId);
  });

  it("cancel stops every worker promptly (far inside the checks' 60 s deadline) and ends the run with one cancelled result per target", async () => {
    const listener = await loopbackListener('tarpit');
    closers.push(listener.close);
    const registry = new WorkersRegistry({ nc: nats.nc, prefix: nats.prefix, heartbeatMs: 200 });
    closers.push(async () => registry.close());
    const beats: Heartbeat[] = [];
    closers.push(watchHeartbeats(nats, (hb) => beats.push(hb)));
    await startWorkers(3);
    const runId = newRunId();
    await createRunRecord(db.store, runId, 'tcp', TOTAL);
    const e = await executor();
    const controller = new AbortController();
    const run = ingest(
      e.execute(
        { id: runId },
        tcpRun({
          port: listener.port,
          base: '127.25.0.0',
          total: TOTAL,
          concurrency: 8,
          timeoutMs: 60_000,
          expectBanner: '^never',
        }),
        controller.signal,
      ),
      db.store,
    );
    // Handshake: every worker reports checks in flight before we cancel.
    while (!workers.every((w) => registry.live().some((i) => i.name === w.name && i.inFlight > 0))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancelAt = Date.now();
    controller.abort();
    await run;
    const settledAt = Date.now();
    // ~100 ms on an idle machine; the bound only separates "cancelled" from "waited for the 60 s deadline"
    // and holds on a 2-core machine under heavy load.
    expect(settledAt - cancelAt).toBeLessThan(10_000);
    await expectOnePerTarget(db.store, runId, TOTAL, 'cancelled');
    // Each worker's first heartbeat sent 1 s or more after the cancel (and after the run settled) shows
    // nothing in flight.
    const quietFrom = Math.max(cancelAt + 1000, settledAt);
    const after = async (name: string) => {
      for (;;) {
        const hb = beats.find((b) => b.name === name && b.at >= quietFrom);
        if (hb) return hb;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    for (const w of workers) {
      const hb = await after(w.name);
      expect({ name: hb.name, inFlight: hb.inFlight, shards: hb.shards }).toEqual({
        name: w.name,
        inFlight: 0,
        shards: 0,
      });
    }
  });
});
