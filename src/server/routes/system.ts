import type { FastifyPluginAsync } from 'fastify';
import { openApiDocument } from '../openapi.js';
import type { RunManager } from '../run-manager.js';

export interface SystemRoutesOptions {
  manager: RunManager;
  version: string;
  /** More Prometheus lines to append (distributed mode: worker liveness). */
  extraMetrics?: () => string;
}

/** /healthz (public), /metrics (role read), /api/v1/openapi.json (public). */
export const systemRoutes: FastifyPluginAsync<SystemRoutesOptions> = async (app, opts) => {
  const { manager } = opts;
  const doc = openApiDocument(opts.version);

  app.get('/healthz', { config: { role: 'public' } }, async (_req, reply) => {
    try {
      await manager.store.getRun('healthz-probe');
      return { ok: true, store: manager.store.dialect, runs: manager.active() };
    } catch {
      return reply.code(503).send({ ok: false, store: manager.store.dialect, error: 'store unavailable' });
    }
  });

  app.get('/metrics', { config: { role: 'read' } }, async (_req, reply) => {
    const text =
      manager.metrics.render({ active: manager.active(), inFlight: manager.inFlight() }) +
      (opts.extraMetrics?.() ?? '');
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });

  app.get('/api/v1/openapi.json', { config: { role: 'public' } }, async () => doc);
};
