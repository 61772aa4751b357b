import type { FastifyPluginAsync } from 'fastify';
import type { WorkersRegistry } from './workers-registry.js';

/**
 * Fastify plugin: `GET /api/v1/workers` -> `{ workers: WorkerInfo[] }` (name, lastSeen, inFlight, live, ...).
 * Register it inside the server's authenticated API scope (read role), e.g.
 * `app.register(workersRoutes, { registry })`.
 */
export const workersRoutes: FastifyPluginAsync<{ registry: WorkersRegistry }> = async (app, opts) => {
  app.get('/api/v1/workers', { config: { role: 'read' } }, async () => ({ workers: opts.registry.list() }));
};
