import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadExecutor } from '../../src/distributed/thread-executor.js';
import { api, type Json, listeners, range, readEvents, startApi, type TestApi } from './helpers.js';

/**
 * `server --threads`: an API run goes through the thread executor (sharded over worker threads), is stored
 * with one result per target and the right counters, and its results and groups read back through the API.
 * 2,048 loopback targets: listeners on the first 16 (pass), nothing on the rest (refused at once).
 */
const NET = '127.25.0.0/21';
const OPEN = range('127.25.0', 16);

let srv: TestApi;
let fleet: Awaited<ReturnType<typeof listeners>>;
let executor: ThreadExecutor;

beforeAll(async () => {
  fleet = await listeners(OPEN);
  executor = new ThreadExecutor({ threads: 2 });
  srv = await startApi({ executor });
});
afterAll(async () => {
  await srv?.close();
  await executor?.close();
  await fleet?.close();
});

describe('API runs on worker threads', () => {
  it('stores one result per target of a run sharded over two threads', async () => {
    const post = await api(srv.url, 'POST', '/api/v1/runs', {
      check: 'tcp',
      targets: [NET],
      args: { port: fleet.port },
      concurrency: 256,
    });
    expect(post.status).toBe(202);
    const id = post.body.id as string;
    const events = await readEvents(`${srv.url}/api/v1/runs/${id}/events`);
    expect(events.at(-1)!.event).toBe('done');
    expect(executor.threadCount).toBe(2); // 2,048 targets: above the in-process threshold

    const run = await api(srv.url, 'GET', `/api/v1/runs/${id}`);
    expect(run.body).toMatchObject({ state: 'done', total: 2048, counts: { pass: 16, error: 2032 } });

    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await api(
        srv.url,
        'GET',
        `/api/v1/runs/${id}/results?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      for (const r of page.body.results as Json[]) seen.add(r.target as string);
      cursor = page.body.nextCursor as string | undefined;
    } while (cursor);
    expect(seen.size).toBe(2048);

    const groups = await api(srv.url, 'GET', `/api/v1/runs/${id}/groups`);
    expect(JSON.stringify(groups.body)).toContain('ECONNREFUSED');
  }, 60_000);
});
