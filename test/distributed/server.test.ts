import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { createServerExecutor, type ServerExecutor } from '../../src/distributed/server-executor.js';
import { startWorker, type Worker } from '../../src/distributed/worker.js';
import type { Executor } from '../../src/engine/executor.js';
import { startServer } from '../../src/server/start.js';
import { NATS_URL, requireService } from '../helpers/services.js';
import { loopbackListener, natsFixture, silent } from './harness.js';

const up = await requireService('NATS', 4222);

describe.skipIf(!up)('fleetprobe server with the JetStream executor', () => {
  let nats: Awaited<ReturnType<typeof natsFixture>>;
  let listener: Awaited<ReturnType<typeof loopbackListener>>;
  let exec: ServerExecutor | undefined;
  let worker: Worker;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    nats = await natsFixture();
    listener = await loopbackListener('close');
    server = await startServer({
      listen: '127.0.0.1:0',
      db: ':memory:',
      tokens: [],
      log: silent,
      nats: NATS_URL,
      createExecutor: async ({ nats: url, log }) => {
        exec = await createServerExecutor({ nats: url, log, prefix: nats.prefix, ackOn: 'stored' });
        return exec satisfies Executor;
      },
    });
    worker = await startWorker({
      natsUrl: NATS_URL,
      name: 'in-proc',
      registry: createBuiltinRegistry(),
      log: silent,
      prefix: nats.prefix,
      heartbeatMs: 100,
    });
  });
  afterAll(async () => {
    await worker?.drain(0);
    await server?.close({ graceMs: 0 });
    await exec?.close();
    await listener?.close();
    await nats?.cleanup();
  });

  it('runs a POSTed run on the workers and ends it done with one result per target', async () => {
    const res = await fetch(`${server.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ check: 'tcp', targets: ['127.28.0.0/24'], args: { port: listener.port } }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    let run: { state: string; counts: Record<string, number> };
    for (;;) {
      run = (await (await fetch(`${server.url}/api/v1/runs/${id}`)).json()) as typeof run;
      if (run.state !== 'running' && run.state !== 'queued') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(run.state).toBe('done');
    expect(run.counts.pass).toBe(256);
    expect(worker.stats().processed).toBe(256);
  });

  it('lists workers at GET /api/v1/workers and in metrics', async () => {
    // Handshake: a heartbeat sent after the previous run ended (the worker idle) has been received.
    const idle = () =>
      exec!.workers.live().some((w) => w.name === 'in-proc' && w.inFlight === 0 && w.shards === 0);
    while (!idle()) await new Promise((r) => setTimeout(r, 20));
    const res = await fetch(`${server.url}/api/v1/workers`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      workers: { name: string; live: boolean; inFlight: number; lastSeen: string }[];
    };
    const me = body.workers.find((w) => w.name === 'in-proc');
    expect(me).toMatchObject({ live: true, inFlight: 0 });
    expect(Number.isNaN(Date.parse(me!.lastSeen))).toBe(false);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('fleetprobe_worker_in_flight{worker="in-proc"} 0');
  });

  it('runs monitor rounds on the workers (JetStream executor): every target gets its state', async () => {
    const before = worker.stats().processed;
    const post = await fetch(`${server.url}/api/v1/monitors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'dist-fleet',
        check: 'tcp',
        args: { port: listener.port },
        targets: ['127.28.1.0/28'],
        interval: '1500ms',
        timeout: '3s',
      }),
    });
    expect(post.status, await post.clone().text()).toBe(201);
    type TargetsPage = { targets: { target: string; state: string }[] };
    let page: TargetsPage;
    for (;;) {
      const res = await fetch(`${server.url}/api/v1/monitors/dist-fleet/targets?state=UP&limit=100`);
      page = (await res.json()) as TargetsPage;
      if (page.targets.length === 16) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(page.targets.map((t) => t.target).sort()).toEqual(
      Array.from({ length: 16 }, (_, i) => `127.28.1.${i}`).sort(),
    );
    // The round ran on the worker, not in the server.
    expect(worker.stats().processed - before).toBeGreaterThanOrEqual(16);
    const del = await fetch(`${server.url}/api/v1/monitors/dist-fleet`, { method: 'DELETE' });
    expect(del.status).toBeLessThan(300);
  });
});
