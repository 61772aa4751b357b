import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/store.js';
import { ApiError } from '../errors.js';
import {
  monitorParams,
  monitorTargetsQuery,
  monitorTransitionsQuery,
  targetHistoryParams,
  targetHistoryQuery,
} from '../monitor-request.js';
import type { ServerMonitors } from '../server-monitors.js';
import { parseOr400 } from '../validate.js';

export interface MonitorsRoutesOptions {
  monitors: ServerMonitors;
  store: Store;
}

const LABEL_PREFIX = 'label.';

/**
 * /api/v1/monitors...: list, show, create, change, delete (config monitors are read-only: 409), pause and
 * resume, current target states (paged, by state and labels), transitions; /api/v1/targets/:address/history.
 */
export const monitorsRoutes: FastifyPluginAsync<MonitorsRoutesOptions> = async (app, opts) => {
  const { monitors, store } = opts;
  const nameOf = (params: unknown) => parseOr400(monitorParams, params, 'params').name;

  app.get('/monitors', { config: { role: 'read' } }, async () => ({ monitors: monitors.list() }));

  app.post('/monitors', { config: { role: 'operate' } }, async (req, reply) => {
    const view = await monitors.create(req.body);
    return reply.code(201).header('location', `/api/v1/monitors/${view.name}`).send(view);
  });

  app.get('/monitors/:name', { config: { role: 'read' } }, async (req) =>
    monitors.mustGet(nameOf(req.params)),
  );

  app.patch('/monitors/:name', { config: { role: 'operate' } }, async (req) =>
    monitors.update(nameOf(req.params), req.body),
  );

  app.delete('/monitors/:name', { config: { role: 'operate' } }, async (req, reply) => {
    await monitors.delete(nameOf(req.params));
    return reply.code(204).send();
  });

  app.post('/monitors/:name/pause', { config: { role: 'operate' } }, async (req) =>
    monitors.setPaused(nameOf(req.params), true),
  );
  app.post('/monitors/:name/resume', { config: { role: 'operate' } }, async (req) =>
    monitors.setPaused(nameOf(req.params), false),
  );

  app.get('/monitors/:name/targets', { config: { role: 'read' } }, async (req) => {
    const name = nameOf(req.params);
    monitors.mustGet(name);
    const raw = (req.query ?? {}) as Record<string, unknown>;
    const plain: Record<string, unknown> = {};
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (!key.startsWith(LABEL_PREFIX)) {
        plain[key] = value;
        continue;
      }
      if (typeof value !== 'string' || key.length === LABEL_PREFIX.length)
        throw new ApiError('bad_request', `query.${key}: expected label.<key>=<value> once`);
      labels[key.slice(LABEL_PREFIX.length)] = value;
    }
    const q = parseOr400(monitorTargetsQuery.strict(), plain, 'query');
    return store.monitors.listTargets(name, {
      limit: q.limit,
      state: q.state,
      labels: Object.keys(labels).length > 0 ? labels : undefined,
      cursor: q.cursor,
    });
  });

  app.get('/monitors/:name/transitions', { config: { role: 'read' } }, async (req) => {
    const name = nameOf(req.params);
    const q = parseOr400(monitorTransitionsQuery, req.query, 'query');
    // A deleted monitor's history is deleted with it; a monitor only in the store's history still answers.
    if (!monitors.get(name) && (await store.monitors.lastRound(name)) === undefined)
      throw new ApiError('not_found', `monitor "${name}" does not exist`);
    return store.monitors.listTransitions(name, {
      limit: q.limit,
      since: q.since === undefined ? undefined : new Date(q.since),
      cursor: q.cursor,
    });
  });

  app.get('/targets/:address/history', { config: { role: 'read' } }, async (req) => {
    const { address } = parseOr400(targetHistoryParams, req.params, 'params');
    const q = parseOr400(targetHistoryQuery, req.query, 'query');
    const names =
      q.monitor !== undefined ? [monitors.mustGet(q.monitor).name] : monitors.list().map((m) => m.name);
    await monitors.manager.flushRollups(); // the current hour's uptime includes what was just checked
    const now = new Date();
    const seriesSince = new Date(now.getTime() - q.hours * 3_600_000);
    const histories = [];
    for (const monitor of names) {
      const h = await store.monitors.targetHistory(monitor, address, { port: q.port, now, seriesSince });
      if (q.monitor !== undefined || h.states.length > 0 || h.transitions.length > 0)
        histories.push({ monitor, ...h });
    }
    if (histories.length === 0) throw new ApiError('not_found', `no monitor has the target "${address}"`);
    return { target: address, monitors: histories };
  });
};
