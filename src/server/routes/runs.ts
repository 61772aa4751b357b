import type { FastifyPluginAsync } from 'fastify';
import { delay } from '../../core/deadline.js';
import { ApiError } from '../errors.js';
import type { RunManager } from '../run-manager.js';
import { diffParams, diffQuery, listRunsQuery, runIdParams } from '../schemas.js';
import { type SseSlots, SseStream } from '../sse.js';
import { parseOr400 } from '../validate.js';

export interface RunsRoutesOptions {
  manager: RunManager;
  /** Interval of SSE progress events, in ms (default 500). */
  sseIntervalMs?: number;
  /** Interval of SSE heartbeat comments, in ms (default 15000). */
  heartbeatMs?: number;
  /** The cap on event streams open at once (503 beyond it). */
  sseSlots: SseSlots;
}

/** /api/v1/runs...: submit, list, show, events (SSE), cancel, diff, previous. Results: routes/results.ts. */
export const runsRoutes: FastifyPluginAsync<RunsRoutesOptions> = async (app, opts) => {
  const { manager } = opts;
  const store = manager.store;
  const tickMs = opts.sseIntervalMs ?? 500;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;

  const mustGet = async (id: string) => {
    const run = await manager.get(id);
    if (!run) throw new ApiError('not_found', `run "${id}" does not exist`);
    return run;
  };

  app.post('/runs', { config: { role: 'operate' } }, async (req, reply) => {
    const run = await manager.submit(req.body);
    return reply.code(202).header('location', `/api/v1/runs/${run.id}`).send(run);
  });

  app.get('/runs', { config: { role: 'read' } }, async (req) => {
    const q = parseOr400(listRunsQuery, req.query, 'query');
    return store.listRuns(q);
  });

  app.get('/runs/:id', { config: { role: 'read' } }, async (req) => {
    const { id } = parseOr400(runIdParams, req.params, 'params');
    const run = await mustGet(id);
    const timings = {
      queuedMs: run.startedAt ? Date.parse(run.startedAt) - Date.parse(run.createdAt) : null,
      runMs: run.startedAt
        ? Date.parse(run.finishedAt ?? new Date().toISOString()) - Date.parse(run.startedAt)
        : null,
    };
    return { ...run, timings };
  });

  app.post('/runs/:id/cancel', { config: { role: 'operate' } }, async (req) => {
    const { id } = parseOr400(runIdParams, req.params, 'params');
    const run = await manager.cancel(id);
    if (!run) throw new ApiError('not_found', `run "${id}" does not exist`);
    return run;
  });

  // The first page (no cursor) also carries `summary`: regressed, recovered, ... counts.
  app.get('/runs/:a/diff/:b', { config: { role: 'read' } }, async (req) => {
    const { a, b } = parseOr400(diffParams, req.params, 'params');
    const q = parseOr400(diffQuery, req.query, 'query');
    await mustGet(a);
    await mustGet(b);
    const page = await store.diffRuns(a, b, q);
    if (q.cursor !== undefined) return page;
    return { ...page, summary: await store.diffSummary(a, b) };
  });

  app.get('/runs/:id/previous', { config: { role: 'read' } }, async (req) => {
    const { id } = parseOr400(runIdParams, req.params, 'params');
    await mustGet(id);
    // No earlier run is a normal answer (the first run of a series), not a missing resource.
    return { previous: (await store.previousRun(id)) ?? null };
  });

  // Server-sent events: `progress` every tick while the run is in flight, then a final `progress` and `done`
  // (the run record). A run that already ended gets the two final events at once.
  app.get('/runs/:id/events', { config: { role: 'read' } }, async (req, reply) => {
    const { id } = parseOr400(runIdParams, req.params, 'params');
    const first = await mustGet(id);
    const release = opts.sseSlots.tryAcquire();
    if (!release) {
      throw new ApiError(
        'unavailable',
        `too many event streams open (${opts.sseSlots.max}, --max-sse); retry later or poll GET /runs/:id`,
        { headers: { 'retry-after': '5' } },
      );
    }
    reply.hijack();
    let sse: SseStream;
    try {
      sse = new SseStream(reply.raw);
    } catch (err) {
      release();
      throw err;
    }
    // The slot is freed when the client goes away as well as when the stream ends (`end()` below).
    sse.closed.addEventListener('abort', release, { once: true });
    try {
      let lastBeat = performance.now();
      let progress = manager.progress(id);
      if (progress) sse.send('progress', progress);
      for (;;) {
        const finished = manager.finished(id);
        if (!finished || sse.closed.aborted) break;
        const tick = new AbortController();
        const onClose = () => tick.abort();
        sse.closed.addEventListener('abort', onClose, { once: true });
        const what = await Promise.race([
          finished.then(() => 'done' as const),
          delay(tickMs, tick.signal).then(
            () => 'tick' as const,
            () => 'closed' as const,
          ),
        ]);
        tick.abort();
        sse.closed.removeEventListener('abort', onClose);
        if (what !== 'tick') break;
        progress = manager.progress(id);
        if (progress) sse.send('progress', progress);
        if (performance.now() - lastBeat >= heartbeatMs) {
          sse.heartbeat();
          lastBeat = performance.now();
        }
      }
      if (!sse.closed.aborted) {
        const final = (await store.getRun(id)) ?? first;
        const done = Object.values(final.counts).reduce((n, c) => n + c, 0);
        sse.send('progress', {
          state: final.state,
          done,
          total: final.total,
          counts: final.counts,
          inFlight: 0,
          rate: 0,
        });
        sse.send('done', final);
      }
    } catch (err) {
      req.log.error({ err, run: id }, 'event stream failed');
      sse.send('error', { error: 'internal', message: 'event stream failed' });
    } finally {
      sse.end();
    }
  });
};
