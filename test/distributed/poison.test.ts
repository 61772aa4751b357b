import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { createJetStreamExecutor } from '../../src/distributed/coordinator.js';
import { distNames } from '../../src/distributed/names.js';
import { startWorker, type Worker } from '../../src/distributed/worker.js';
import type { Result } from '../../src/engine/result.js';
import { requireService } from '../helpers/services.js';
import { loopbackListener, loopbackTargets, natsFixture, silent } from './harness.js';

const up = await requireService('NATS', 4222);
const tcp = createBuiltinRegistry().get('tcp');

describe.skipIf(!up)('poison shards and bad messages', () => {
  let nats: Awaited<ReturnType<typeof natsFixture>>;
  let listener: Awaited<ReturnType<typeof loopbackListener>>;
  const workers: Worker[] = [];

  beforeAll(async () => {
    nats = await natsFixture();
    listener = await loopbackListener('close');
  });
  afterAll(async () => {
    for (const w of workers) await w.destroy();
    await listener?.close();
    await nats?.cleanup();
  });

  it('dead-letters a shard on its last allowed delivery: its targets get error results, unrun', async () => {
    // maxDeliver 1: the first delivery is already the last one.
    const limits = { maxDeliver: 1 };
    const prefix = `${nats.prefix}dl`;
    const w = await startWorker({
      nc: nats.nc,
      name: 'dl',
      registry: createBuiltinRegistry(),
      log: silent,
      prefix,
      limits,
    });
    workers.push(w);
    const executor = await createJetStreamExecutor({
      nc: nats.nc,
      log: silent,
      prefix,
      limits,
      shardSize: 16,
    });
    const results: Result[] = [];
    for await (const r of executor.execute(
      { id: 'deadletter1' },
      {
        check: tcp,
        args: tcp.args.parse({ port: listener.port }),
        targets: loopbackTargets('127.29.0.0', 40),
        concurrency: 8,
        retries: 0,
      },
      new AbortController().signal,
    )) {
      results.push(r);
    }
    await executor.close();
    await w.destroy();
    expect(results).toHaveLength(40);
    expect(new Set(results.map((r) => r.target)).size).toBe(40);
    expect(results.every((r) => r.status === 'error' && r.attempts === 0 && r.port === listener.port)).toBe(
      true,
    );
  });

  it('terminates malformed shard and result messages and carries on', async () => {
    const w = await startWorker({
      nc: nats.nc,
      name: 'p',
      registry: createBuiltinRegistry(),
      log: silent,
      prefix: nats.prefix,
    });
    workers.push(w);
    const executor = await createJetStreamExecutor({
      nc: nats.nc,
      log: silent,
      prefix: nats.prefix,
      shardSize: 16,
    });
    const names = distNames(nats.prefix);
    const { jetstream } = await import('@nats-io/jetstream');
    const js = jetstream(nats.nc);
    // Garbage before the run: a shard the worker cannot decode, and a result batch for the run.
    await js.publish(names.shardSubject('poisoned1'), 'not json');
    const results: Result[] = [];
    const run = executor.execute(
      { id: 'poisoned1' },
      {
        check: tcp,
        args: tcp.args.parse({ port: listener.port }),
        targets: loopbackTargets('127.29.1.0', 40),
        concurrency: 8,
        retries: 0,
      },
      new AbortController().signal,
    );
    await js.publish(
      names.resultSubject('poisoned1'),
      JSON.stringify({ v: 1, runId: 'poisoned1', seq: 'x' }),
    );
    for await (const r of run) results.push(r);
    await executor.close();
    expect(results).toHaveLength(40);
    expect(results.every((r) => r.status === 'pass')).toBe(true);
  });
});
