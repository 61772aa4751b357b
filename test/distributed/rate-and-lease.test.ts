import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JetStreamExecutor } from '../../src/distributed/coordinator.js';
import type { Heartbeat, ResultBatch } from '../../src/distributed/messages.js';
import { connectNats } from '../../src/distributed/nats.js';
import type { Result } from '../../src/engine/result.js';
import { NATS_URL, requireService } from '../helpers/services.js';
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
import { createRunRecord, expectOnePerTarget, tempStore } from './store-helpers.js';

const up = await requireService('NATS', 4222);

/**
 * Distributed runs with the default shard lease (5 s ack wait, renewed every third of it) and a global
 * `ratePerSec`: two real worker processes, one coordinator.
 */
describe.skipIf(!up)('distributed mode on time: global rate, lease redelivery, prompt resume', () => {
  let nats: Awaited<ReturnType<typeof natsFixture>>;
  let db: Awaited<ReturnType<typeof tempStore>>;
  let workers: WorkerProcess[] = [];
  const executors: JetStreamExecutor[] = [];
  const closers: (() => Promise<void>)[] = [];
  /** Per worker, its last heartbeat. */
  const beats = new Map<string, Heartbeat>();

  const executor = async () => {
    // Default limits: the coordinator and the workers agree on the default 5 s ack wait.
    const e = await testExecutor(nats);
    executors.push(e);
    return e;
  };

  beforeAll(async () => {
    nats = await natsFixture();
    db = await tempStore();
    closers.push(watchHeartbeats(nats, (hb) => beats.set(hb.name, hb)));
    workers = await Promise.all(
      ['w1', 'w2'].map((n) =>
        spawnWorker(nats.prefix, n, ['--concurrency', '8', '--heartbeat', '200ms', '--shards', '2']),
      ),
    );
  });
  afterEach(async () => {
    for (const e of executors.splice(0)) await e.close();
  });
  afterAll(async () => {
    await stopWorkers(workers);
    for (const c of closers.splice(0)) await c();
    await db?.cleanup();
    await nats?.cleanup();
  });

  it('2 workers together start about --rate checks per second, not --rate each', async () => {
    const RATE = 100;
    const TOTAL = 300;
    const listener = await loopbackListener('close');
    closers.push(listener.close);
    const runId = newRunId();
    await createRunRecord(db.store, runId, 'tcp', TOTAL);
    const before = new Map([...beats].map(([name, hb]) => [name, hb.processed]));
    const e = await executor();
    const spec = {
      ...tcpRun({ port: listener.port, base: '127.31.0.0', total: TOTAL, concurrency: 64, timeoutMs: 3000 }),
      ratePerSec: RATE,
    };
    await ingest(e.execute({ id: runId }, spec, new AbortController().signal), db.store);
    const stored = await expectOnePerTarget(db.store, runId, TOTAL, 'pass');
    const starts = stored.map((r) => Date.parse(r.startedAt)).sort((a, b) => a - b);
    const spanMs = starts.at(-1)! - starts[0]!;
    const measured = ((TOTAL - 1) / spanMs) * 1000;
    // Ignoring the rate gives thousands per second; a grant covers 100 ms, so even bursts stay near RATE.
    expect(measured).toBeLessThanOrEqual(RATE * 1.3);
    // A floor only shows the run was paced, not starved: on a loaded 2-core machine it can fall well below RATE.
    expect(measured).toBeGreaterThan(RATE * 0.2);
    // Both workers took part (each would be allowed RATE on its own under a per-worker rate).
    await new Promise((r) => setTimeout(r, 500)); // two more heartbeats carry the final counters
    for (const w of workers) expect(beats.get(w.name)!.processed).toBeGreaterThan(before.get(w.name) ?? 0);
  }, 60_000);

  it('kill -9 of a worker: its shards are redelivered within the 5 s lease, one result per target', async () => {
    const TOTAL = 512;
    const BOUND_MS = 12_000; // the lease (5 s) plus a pull and scheduling slack on a busy machine
    const listener = await loopbackListener('banner', 300); // shards of 32 at concurrency 8: ~1.2 s each
    closers.push(listener.close);
    const runId = newRunId();
    await createRunRecord(db.store, runId, 'tcp', TOTAL);
    let killedAt: number | undefined;
    let killed: WorkerProcess | undefined;
    const redelivered: { at: number; batch: Pick<ResultBatch, 'worker' | 'delivery'> }[] = [];
    const sub = nats.nc.subscribe(`${nats.prefix}.results.${runId}`, {
      callback: (_err, msg) => {
        const batch = msg.json<ResultBatch>();
        if (batch.delivery > 1) redelivered.push({ at: Date.now(), batch });
      },
    });
    closers.push(async () => sub.unsubscribe());
    const e = await executor();
    await ingest(
      e.execute(
        { id: runId },
        tcpRun({
          port: listener.port,
          base: '127.32.0.0',
          total: TOTAL,
          concurrency: 8,
          timeoutMs: 5000,
          expectBanner: '^SSH-',
        }),
        new AbortController().signal,
      ),
      db.store,
      async (_r, n) => {
        const victim = workers.find((w) => (beats.get(w.name)?.shards ?? 0) > 0);
        if (n >= 32 && !killed && victim) {
          killed = victim;
          killedAt = Date.now();
          victim.child.kill('SIGKILL');
          await victim.exited;
        }
      },
    );
    expect(killed).toBeDefined();
    await expectOnePerTarget(db.store, runId, TOTAL, 'pass');
    expect(redelivered.length).toBeGreaterThan(0);
    const first = redelivered[0]!;
    expect(first.batch.worker).not.toBe(killed!.name);
    expect(first.at - killedAt!).toBeLessThan(BOUND_MS);
  }, 60_000);

  it('a coordinator that dies holding unacked result messages: the next one yields results within seconds', async () => {
    const TOTAL = 256;
    const listener = await loopbackListener('close');
    closers.push(listener.close);
    const runId = newRunId();
    await createRunRecord(db.store, runId, 'tcp', TOTAL);
    const spec = () =>
      tcpRun({ port: listener.port, base: '127.33.0.0', total: TOTAL, concurrency: 8, timeoutMs: 3000 });
    // The first coordinator has a connection of its own; 8 shards fit its window, so it is done publishing.
    const doomedNc = await connectNats(NATS_URL, 'doomed-coordinator');
    const doomed = await testExecutor({ nc: doomedNc, prefix: nats.prefix });
    const results = doomed.execute({ id: runId }, spec(), new AbortController().signal);
    for (let i = 0; i < 40; i++) {
      const next = await results.next();
      expect(next.done).toBe(false);
      await db.store.insertResults([next.value as Result]);
    }
    // It dies like a killed process: the message it is reading from (and any prefetched) stays unacked.
    await doomedNc.close();

    const resumedAt = Date.now();
    let firstMs: number | undefined;
    const e = await executor();
    expect(await e.resumableRuns()).toContain(runId);
    await ingest(e.execute({ id: runId }, spec(), new AbortController().signal), db.store, () => {
      firstMs ??= Date.now() - resumedAt;
    });
    // Before: the resumed coordinator waited for the results' 30 s ack wait (up to 61 s) before reading.
    expect(firstMs).toBeLessThan(10_000);
    await expectOnePerTarget(db.store, runId, TOTAL);
  }, 90_000);
});
