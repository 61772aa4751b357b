import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcpCheck as tcp } from '../../src/checks/tcp/tcp-check.js';
import { InterruptedError } from '../../src/core/errors.js';
import { LocalExecutor } from '../../src/engine/executor.js';
import type { Result } from '../../src/engine/result.js';
import { newRunRecord, StoredRun } from '../../src/runs/stored-run.js';
import { openStore, type Store } from '../../src/store/index.js';
import { openTargets } from '../../src/targets/open-targets.js';

let store: Store;
let port: number;

beforeAll(async () => {
  store = await openStore(':memory:');
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(async () => {
  await store?.close();
});

async function start(spec: string, over: { monitor?: string; ratePerSec?: number } = {}) {
  const source = await openTargets({ specs: [spec] });
  const options = { concurrency: 8, retries: 0, timeoutMs: 2000, ratePerSec: over.ratePerSec };
  const record = newRunRecord({
    id: `sr-${Math.random().toString(36).slice(2)}`,
    check: 'tcp',
    args: { port },
    targets: { specs: [spec] },
    options,
    total: source.total ?? null,
    monitor: over.monitor ?? null,
  });
  await store.createRun(record);
  const controller = new AbortController();
  const batches: Result[][] = [];
  const run = new StoredRun({
    store,
    executor: new LocalExecutor(),
    record,
    spec: {
      check: tcp,
      args: tcp.args.parse({ port }),
      targets: source.targets(),
      total: source.total,
      ...options,
    },
    signal: controller.signal,
    owner: 'test-owner',
    onStored: (b) => {
      batches.push([...b]);
    },
    batchSize: 10,
  });
  return { run, record, controller, batches, source };
}

describe('StoredRun: record -> execute -> store -> final state', () => {
  it('stores every result, tells onStored each stored batch, and ends done with counters = rows', async () => {
    const { run, record, batches, source } = await start('127.31.0.0/27', { monitor: 'edge-tcp' });
    let n = 0;
    for await (const _ of run.results()) n++;
    await source.close();
    expect(n).toBe(32);
    expect(run.outcome).toEqual({ state: 'done', error: null, detached: false });
    expect(batches.flat()).toHaveLength(32);
    const got = await store.getRun(record.id);
    expect(got).toMatchObject({ state: 'done', owner: 'test-owner', monitor: 'edge-tcp' });
    expect(got?.counts).toEqual(await store.countResults(record.id));
    expect(got?.counts.error).toBe(32); // connection refused
    expect((await store.listRuns({ monitor: 'edge-tcp', limit: 5 })).runs.map((r) => r.id)).toEqual([
      record.id,
    ]);
  });

  it('an InterruptedError abort ends the run `interrupted`, the rest stored `cancelled`, counters = rows', async () => {
    const { run, record, controller, source } = await start('127.31.1.0/24', { ratePerSec: 20 });
    let n = 0;
    for await (const _ of run.results()) {
      if (++n === 3) controller.abort(new InterruptedError('interrupted by SIGTERM'));
    }
    await source.close();
    expect(n).toBe(256);
    const got = await store.getRun(record.id);
    expect(got?.state).toBe('interrupted');
    expect(got?.counts).toEqual(await store.countResults(record.id));
    expect(got?.counts.cancelled).toBeGreaterThan(200);
  });

  it('a plain abort ends the run `cancelled`', async () => {
    const { run, record, controller, source } = await start('127.31.2.0/24', { ratePerSec: 20 });
    controller.abort();
    for await (const _ of run.results());
    await source.close();
    expect((await store.getRun(record.id))?.state).toBe('cancelled');
  });
});
