import type { FastifyPluginAsync } from 'fastify';
import { openApiDocument } from '../openapi.js';
import type { RunManager } from '../run-manager.js';

/**
 * One part of GET /metrics: complete metric families (HELP, TYPE, samples) in the Prometheus text format,
 * each line ending in a newline. Called at every scrape; it must be cheap and must not throw.
 */
export type MetricsProvider = () => string;

export interface SystemRoutesOptions {
  manager: RunManager;
  version: string;
  /** The parts of /metrics, in order (runs and checks, distributed mode's workers, monitors...). */
  metrics: readonly MetricsProvider[];
  /** Who may scrape /metrics: `read` (default) or `public` (`--metrics-public`). */
  metricsRole?: 'read' | 'public';
}

/** /healthz (public), /metrics (role read, or public), /api/v1/openapi.json (public). */
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

  app.get('/metrics', { config: { role: opts.metricsRole ?? 'read' } }, async (_req, reply) => {
    const text = opts.metrics.map((provide) => provide()).join('');
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });

  app.get('/api/v1/openapi.json', { config: { role: 'public' } }, async () => doc);
};
