import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCounts } from '../../src/engine/result.js';
import { buildServer } from '../../src/server/index.js';
import { openStore, type Store, StoreError } from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { api, listeners, range, readEvents } from '../server/helpers.js';
import { freshDatabase, newRun, result } from './store-fixtures.js';

const pgUp = await requireService('PostgreSQL', 5432);

/**
 * A loopback TCP proxy in front of PostgreSQL that can "restart the database" for this test only:
 * `down()` kills every connection and refuses new ones, `up()` listens again on the same port. (Restarting
 * the shared PostgreSQL itself would break every other test running against it.)
 */
async function pgProxy(): Promise<{
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(5432, '127.0.0.1');
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen({ host: '127.0.0.1', port }, () => resolve());
    });
    port = (server.address() as net.AddressInfo).port;
  };
  const down = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  await listen();
  return { port, down, up: listen, close: down };
}

describe.skipIf(!pgUp)('PostgreSQL going away and coming back', () => {
  let proxy: Awaited<ReturnType<typeof pgProxy>>;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let store: Store;

  beforeAll(async () => {
    proxy = await pgProxy();
    db = await freshDatabase('postgres');
    store = await openStore(db.url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`));
  });
  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await db?.drop();
  });

  it('writes fail visibly with StoreError while it is down and succeed after it is back; the process survives', async () => {
    const run = newRun();
    await store.createRun(run);
    expect(await store.insertResults([result(run.id, 1, 'pass')])).toEqual({ ...emptyCounts(), pass: 1 });

    await proxy.down(); // idle pooled connections die: the pool's 'error' event must not crash the process
    const err = await store.insertResults([result(run.id, 2, 'pass')]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('FP_STORE');

    await proxy.up();
    // The first query after the restart may still meet a connection that died; a retry must then succeed.
    let counts = emptyCounts();
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        counts = await store.insertResults([result(run.id, 2, 'pass'), result(run.id, 3, 'fail')]);
        break;
      } catch (e) {
        expect(e).toBeInstanceOf(StoreError);
      }
    }
    expect(counts).toEqual({ ...emptyCounts(), pass: 1, fail: 1 });
    expect((await store.listResults(run.id, { limit: 10 })).results).toHaveLength(3);
  });

  it('the API answers 503 while the store is down and recovers without a restart', async () => {
    const { app } = await buildServer({ store, auth: { tokens: [] } });
    try {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      await proxy.down();
      const down = await app.inject({ method: 'GET', url: '/api/v1/runs' });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ error: 'unavailable' });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(503);
      await proxy.up();
      let status = 0;
      for (let attempt = 0; attempt < 3 && status !== 200; attempt++) {
        status = (await app.inject({ method: 'GET', url: '/api/v1/runs' })).statusCode;
      }
      expect(status).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('a run whose results cannot be stored ends failed, saying so, and the server carries on', async () => {
    const fleet = await listeners(range('127.28.0', 40));
    let sawLoss!: () => void;
    const lossLogged = new Promise<void>((r) => {
      sawLoss = r;
    });
    const logStream = new Writable({
      write(chunk, _enc, cb) {
        if (String(chunk).includes('results not stored')) sawLoss();
        cb();
      },
    });
    const { app } = await buildServer({
      store,
      auth: { tokens: [] },
      log: pino({ level: 'error' }, logStream),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`;
    try {
      // 40 targets at 20 checks/s: about two seconds of results arriving one by one.
      const post = await api(url, 'POST', '/api/v1/runs', {
        check: 'tcp',
        targets: ['127.28.0.0/27', '127.28.0.32/29'],
        args: { port: fleet.port },
        rate: 20,
      });
      const id = post.body.id as string;
      await readEvents(`${url}/api/v1/runs/${id}/events`, (e) => e.event === 'progress' && e.data.done > 0);
      await proxy.down();
      await lossLogged; // a batch was given up on after its retries: the loss is reported, not hidden
      await proxy.up();
      const events = await readEvents(`${url}/api/v1/runs/${id}/events`);
      const done = events.at(-1)!;
      expect(done.event).toBe('done');
      expect(done.data.state).toBe('failed');
      expect(done.data.error).toMatch(/could not be stored/);
      expect((await store.getRun(id))?.state).toBe('failed');
      // The server recovered without a restart: a new run goes through.
      const again = await api(url, 'POST', '/api/v1/runs', {
        check: 'tcp',
        targets: ['127.28.0.0/29'],
        args: { port: fleet.port },
      });
      expect(again.status).toBe(202);
      const ev = await readEvents(`${url}/api/v1/runs/${again.body.id}/events`);
      expect(ev.at(-1)!.data).toMatchObject({ state: 'done', counts: { pass: 8 } });
    } finally {
      await app.close();
      await fleet.close();
    }
  });
});
