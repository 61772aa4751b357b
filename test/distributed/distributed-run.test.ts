import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { createJetStreamExecutor } from '../../src/distributed/coordinator.js';
import { storeResults } from '../../src/sinks/store-sink.js';
import { requireService } from '../helpers/services.js';
import {
  ingest,
  loopbackListener,
  natsFixture,
  newRunId,
  silent,
  spawnWorker,
  stopWorkers,
  tcpRun,
  type WorkerProcess,
} from './harness.js';
import { allResults, createRunRecord, tempStore } from './store-helpers.js';

const up = await requireService('NATS', 4222);

describe.skipIf(!up)('distributed run over JetStream (3 worker processes)', () => {
  let nats: Awaited<ReturnType<typeof natsFixture>>;
  let db: Awaited<ReturnType<typeof tempStore>>;
  let listener: Awaited<ReturnType<typeof loopbackListener>>;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    nats = await natsFixture();
    db = await tempStore();
    listener = await loopbackListener('close');
    workers = await Promise.all(
      ['w1', 'w2', 'w3'].map((n) => spawnWorker(nats.prefix, n, ['--ack-wait', '3s', '--concurrency', '64'])),
    );
  });
  afterAll(async () => {
    await stopWorkers(workers);
    await listener?.close();
    await db?.cleanup();
    await nats?.cleanup();
  });

  it('gets exactly one result per target across 3 workers', async () => {
    const total = 1024;
    const runId = newRunId();
    await createRunRecord(db.store, runId, 'tcp', total);
    const executor = await createJetStreamExecutor({
      nc: nats.nc,
      log: silent,
      prefix: nats.prefix,
      limits: { ackWaitMs: 3000 },
      registry: createBuiltinRegistry(),
    });
    const results = executor.execute(
      { id: runId },
      tcpRun({ port: listener.port, base: '127.22.0.0', total, concurrency: 64, timeoutMs: 3000 }),
      new AbortController().signal,
    );
    const yielded = await ingest(results, db.store);
    await executor.close();
    const stored = await allResults(db.store, runId);
    expect(stored).toHaveLength(total);
    expect(new Set(stored.map((r) => r.target)).size).toBe(total);
    expect(stored.every((r) => r.status === 'pass')).toBe(true);
    expect(yielded).toBeGreaterThanOrEqual(total);
    expect(await executor.resumableRuns()).not.toContain(runId);
  });

  it("with ackOn 'stored' and the server's batching store sink, acks follow the store's writes", async () => {
    const total = 1024;
    const runId = newRunId();
    await createRunRecord(db.store, runId, 'tcp', total);
    const executor = await createJetStreamExecutor({
      nc: nats.nc,
      log: silent,
      prefix: nats.prefix,
      limits: { ackWaitMs: 3000 },
      ackOn: 'stored',
    });
    let newRows = 0;
    const stored = storeResults(
      db.store,
      executor.execute(
        { id: runId },
        tcpRun({ port: listener.port, base: '127.26.0.0', total, concurrency: 64 }),
        new AbortController().signal,
      ),
      {
        onCounts: (counts, batch) => {
          newRows += Object.values(counts).reduce((a, b) => a + b, 0);
          executor.onStored(runId, batch);
        },
      },
    );
    for await (const _r of stored) {
      // drained by the sink
    }
    await executor.close();
    expect(newRows).toBe(total);
    const rows = await allResults(db.store, runId);
    expect(new Set(rows.map((r) => r.target)).size).toBe(total);
    expect(await executor.resumableRuns()).not.toContain(runId);
  });
});
