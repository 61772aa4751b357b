import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { createJetStreamExecutor } from '../../src/distributed/coordinator.js';
import { decodeMessage, heartbeatSchema } from '../../src/distributed/messages.js';
import { distNames } from '../../src/distributed/names.js';
import { requireService } from '../helpers/services.js';
import {
  loopbackListener,
  loopbackTargets,
  natsFixture,
  newRunId,
  silent,
  spawnWorker,
  stopWorkers,
  tcpRun,
  testExecutor,
  type WorkerProcess,
} from './harness.js';

const up = await requireService('NATS', 4222);

/**
 * Issue 11: `fleetprobe worker --threads 2` is two workers in one process, one per thread, each with its own
 * connection and name (`<name>-1`, `<name>-2`): together they complete a run, and SIGTERM drains both.
 */
describe.skipIf(!up)('worker --threads 2', () => {
  let nats: Awaited<ReturnType<typeof natsFixture>>;
  let listener: Awaited<ReturnType<typeof loopbackListener>>;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    nats = await natsFixture();
    listener = await loopbackListener('close');
  });
  afterAll(async () => {
    if (worker) await stopWorkers([worker]);
    await listener?.close();
    await nats?.cleanup();
  });

  it('completes a run with both thread workers, then drains on SIGTERM', async () => {
    const processed = new Map<string, number>();
    const names = distNames(nats.prefix);
    const sub = nats.nc.subscribe(names.heartbeatSubject, {
      callback: (err, msg) => {
        if (err) return;
        const hb = decodeMessage(heartbeatSchema, msg.subject, msg.data);
        processed.set(hb.name, hb.processed);
      },
    });
    worker = await spawnWorker(nats.prefix, 'wt', ['--heartbeat', '200ms', '--concurrency', '16'], 2);
    // Both threads are pulling before the run starts (the first "worker started" resolved spawnWorker).
    for (let i = 0; i < 200 && !(processed.has('wt-1') && processed.has('wt-2')); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect([...processed.keys()].sort()).toEqual(['wt-1', 'wt-2']);

    const total = 800;
    const executor = await createJetStreamExecutor({
      nc: nats.nc,
      log: silent,
      prefix: nats.prefix,
      shardSize: 25,
      registry: createBuiltinRegistry(),
    });
    const seen = new Set<string>();
    for await (const r of executor.execute(
      { id: newRunId() },
      tcpRun({ port: listener.port, base: '127.22.64.0', total, concurrency: 16, timeoutMs: 5000 }),
      new AbortController().signal,
    )) {
      expect(r.status).toBe('pass');
      seen.add(r.target);
    }
    await executor.close();
    expect(seen.size).toBe(total);
    // Heartbeats every 200 ms: wait for both to report what they published.
    for (let i = 0; i < 100 && (processed.get('wt-1') ?? 0) + (processed.get('wt-2') ?? 0) < total; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((processed.get('wt-1') ?? 0) + (processed.get('wt-2') ?? 0)).toBeGreaterThanOrEqual(total);
    expect(processed.get('wt-1')).toBeGreaterThan(0);
    expect(processed.get('wt-2')).toBeGreaterThan(0);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.logs.filter((l) => l.includes('"worker stopped"'))).toHaveLength(2);
    sub.unsubscribe();
  }, 120_000);
});

/** Issue 11: `fleetprobe worker` uses every core by default, one worker per thread. */
describe.skipIf(!up)('worker without --threads', () => {
  it('starts one worker per core, named <name>-1..n (one named <name> on one core)', async () => {
    const nats = await natsFixture();
    const cores = availableParallelism();
    const expected = cores === 1 ? ['wd'] : Array.from({ length: cores }, (_, i) => `wd-${i + 1}`);
    let worker: WorkerProcess | undefined;
    try {
      worker = await heartbeatsFrom(nats, expected, () =>
        spawnWorker(nats.prefix, 'wd', ['--heartbeat', '200ms'], 'cores'),
      );
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.logs.filter((l) => l.includes('"worker stopped"'))).toHaveLength(expected.length);
    } finally {
      if (worker) await stopWorkers([worker]);
      await nats.cleanup();
    }
  }, 60_000);
});

/** Before a run, every thread worker of `worker` has sent a heartbeat (each is pulling). */
async function heartbeatsFrom(
  nats: Awaited<ReturnType<typeof natsFixture>>,
  expected: readonly string[],
  start: () => Promise<WorkerProcess>,
): Promise<WorkerProcess> {
  const seen = new Set<string>();
  const sub = nats.nc.subscribe(distNames(nats.prefix).heartbeatSubject, {
    callback: (err, msg) => {
      if (!err) seen.add(decodeMessage(heartbeatSchema, msg.subject, msg.data).name);
    },
  });
  const worker = await start();
  for (let i = 0; i < 200 && !expected.every((n) => seen.has(n)); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  sub.unsubscribe();
  expect([...seen].sort()).toEqual([...expected].sort());
  return worker;
}

/**
 * `fleetprobe worker --threads 2 --check-module <file.ts>`: each thread loads the user check itself, so a run
 * of that check submitted through the coordinator gets one result per target, from the user check.
 */
describe.skipIf(!up)('worker --threads 2 --check-module', () => {
  let nats: Awaited<ReturnType<typeof natsFixture>>;
  let worker: WorkerProcess | undefined;
  const checkModule = fileURLToPath(new URL('../fixtures/user-checks/good-check.ts', import.meta.url));

  beforeAll(async () => {
    nats = await natsFixture();
  });
  afterAll(async () => {
    if (worker) await stopWorkers([worker]);
    await nats?.cleanup();
  });

  it('runs the user check on every target', async () => {
    worker = await heartbeatsFrom(nats, ['um-1', 'um-2'], () =>
      spawnWorker(nats.prefix, 'um', ['--heartbeat', '200ms', '--check-module', checkModule], 2),
    );
    const total = 300;
    const executor = await testExecutor(nats);
    // A redelivered shard may repeat results (the store keeps one row per target): count targets.
    const seen = new Set<string>();
    for await (const r of executor.execute(
      { id: newRunId() },
      {
        check: { name: 'good-ts' },
        args: { word: 'hi' },
        targets: loopbackTargets('127.22.72.0', total),
        total,
        concurrency: 16,
        timeoutMs: 5000,
        retries: 0,
      },
      new AbortController().signal,
    )) {
      expect(r).toMatchObject({ check: 'good-ts', status: 'pass', message: `hi ${r.target}` });
      seen.add(r.target);
    }
    await executor.close();
    expect(seen.size).toBe(total);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 120_000);
});
