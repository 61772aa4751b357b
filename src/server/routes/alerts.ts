import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import * as z from 'zod';
import { ALERT_STATES } from '../../model/notification.js';
import { type Silence, silenceActive, silenceInputSchema } from '../../model/silences.js';
import type { AlertStore } from '../../store/alert-store.js';
import { ApiError } from '../errors.js';
import { parseOr400 } from '../validate.js';

export interface AlertsRoutesOptions {
  store: AlertStore;
  /** The clock (ms); default `Date.now`. */
  now?: () => number;
  /** Silences of the config file: listed with the stored ones (first), read-only here. */
  configSilences?: () => readonly Silence[];
}

export const listAlertsQuery = z.strictObject({
  state: z.enum(ALERT_STATES).optional(),
  monitor: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().optional(),
});
export const listSilencesQuery = z.strictObject({ all: z.enum(['true', 'false']).default('false') });
const idParams = z.strictObject({ id: z.string().min(1).max(100) });

/**
 * Alert history and silences (register with `prefix: '/api/v1'`):
 * - `GET /alerts?state=firing|resolved&monitor=&limit=&cursor=` (read): newest first, `{alerts, nextCursor}`;
 * - `GET /silences[?all=true]` (read): silences not yet ended (all of them with `all=true`);
 * - `GET /silences/:id` (read);
 * - `POST /silences` (operate): `{monitor?, matchers?, targets?, startsAt?, endsAt, comment?, createdBy?}`,
 *   201 with the stored silence (id assigned, `startsAt` default now); 400 naming the bad field;
 * - `DELETE /silences/:id` (operate): ends it now (kept for the record), 204; 404 when unknown; 409 for a
 *   silence of the config file (`config-...` ids: change the file).
 */
export const alertsRoutes: FastifyPluginAsync<AlertsRoutesOptions> = async (app, opts) => {
  const now = opts.now ?? Date.now;
  const store = opts.store;
  const fromConfig = opts.configSilences ?? (() => []);

  app.get('/alerts', { config: { role: 'read' } }, async (req) => {
    const q = parseOr400(listAlertsQuery, req.query, 'query');
    return store.listAlerts(q);
  });

  app.get('/silences', { config: { role: 'read' } }, async (req) => {
    const q = parseOr400(listSilencesQuery, req.query, 'query');
    const nowMs = now();
    const config = fromConfig().filter(
      (s) => q.all === 'true' || silenceActive(s, nowMs) || Date.parse(s.startsAt) > nowMs,
    );
    return {
      silences: [...config, ...(await store.listSilences(q.all === 'true' ? {} : { nowMs }))],
    };
  });

  app.get('/silences/:id', { config: { role: 'read' } }, async (req) => {
    const { id } = parseOr400(idParams, req.params, 'params');
    const silence = fromConfig().find((s) => s.id === id) ?? (await store.getSilence(id));
    if (!silence) throw new ApiError('not_found', `no silence "${id}"`);
    return silence;
  });

  app.post('/silences', { config: { role: 'operate' } }, async (req, reply) => {
    const input = parseOr400(silenceInputSchema, req.body, 'body');
    const at = new Date(now()).toISOString();
    const startsAt = input.startsAt ?? at;
    if (startsAt >= input.endsAt) throw new ApiError('bad_request', 'body.endsAt: must be in the future');
    const silence = await store.createSilence({ ...input, id: randomUUID(), startsAt, createdAt: at });
    req.log.info({ silence: silence.id }, 'silence created');
    return reply.code(201).send(silence);
  });

  app.delete('/silences/:id', { config: { role: 'operate' } }, async (req, reply) => {
    const { id } = parseOr400(idParams, req.params, 'params');
    if (fromConfig().some((s) => s.id === id))
      throw new ApiError('conflict', `silence "${id}" is defined in the config file: change it there`);
    if (!(await store.expireSilence(id, now()))) throw new ApiError('not_found', `no silence "${id}"`);
    return reply.code(204).send();
  });
};
