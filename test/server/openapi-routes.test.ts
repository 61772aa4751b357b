import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { WorkersRegistry } from '../../src/distributed/workers-registry.js';
import { workersRoutes } from '../../src/distributed/workers-routes.js';
import { openApiDocument } from '../../src/server/openapi.js';
import { api, startApi } from './helpers.js';

/** Issue 12: every API route is in the OpenAPI document, with an operationId. */
type Doc = {
  servers: { url: string }[];
  paths: Record<string, Record<string, unknown> & { servers?: { url: string }[] }>;
};

/** `METHOD /full/path` of every route, params as `{}`, from fastify's route tree (HEAD twins dropped). */
function routesOf(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ├└─]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = Math.round(m[1]!.length / 4);
    stack.length = depth;
    stack.push(m[2]!);
    const full = stack
      .join('')
      .replace(/\/+/g, '/')
      .replace(/\/?:[\w|:]+/g, '/{}');
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${full}`);
  }
  return out;
}

/** `METHOD /full/path` of every documented operation, params as `{}`, and the operations missing an operationId. */
function documented(doc: Doc): { ops: string[]; withoutId: string[] } {
  const ops: string[] = [];
  const withoutId: string[] = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    const base = (item.servers ?? doc.servers)[0]!.url.replace(/\/$/, '');
    for (const [method, op] of Object.entries(item)) {
      if (method === 'servers') continue;
      const key = `${method.toUpperCase()} ${`${base}${p}`.replace(/\{\w+\}/g, '{}')}`;
      ops.push(key);
      if (!(op as { operationId?: string }).operationId) withoutId.push(key);
    }
  }
  return { ops, withoutId };
}

describe('OpenAPI document', () => {
  const doc = openApiDocument('test') as unknown as Doc;

  it('documents every route of the server, each with a unique operationId', async () => {
    const srv = await startApi();
    try {
      // Everything but the dashboard (`/` and its static files).
      const routes = routesOf(srv.app).filter((r) => r !== 'GET /' && r !== 'GET /*');
      expect(routes).toEqual(expect.arrayContaining(['GET /healthz', 'GET /metrics', 'POST /api/v1/runs']));
      const { ops, withoutId } = documented(doc);
      for (const r of routes) expect(ops, `${r} is not in the OpenAPI document`).toContain(r);
      expect(withoutId).toEqual([]);
      const ids = Object.values(doc.paths).flatMap((item) =>
        Object.values(item)
          .map((op) => (op as { operationId?: string }).operationId)
          .filter(Boolean),
      );
      expect(new Set(ids).size).toBe(ids.length);
      // The served document is this one.
      expect((await api(srv.url, 'GET', '/api/v1/openapi.json')).body.paths['/healthz']).toBeDefined();
    } finally {
      await srv.close();
    }
  });

  it('documents the distributed-mode workers route', async () => {
    const app = Fastify();
    const registry = { list: () => [] } as unknown as WorkersRegistry;
    await app.register(workersRoutes, { registry });
    await app.ready();
    try {
      const routes = routesOf(app);
      expect(routes).toEqual(['GET /api/v1/workers']);
      expect(documented(doc).ops).toContain('GET /api/v1/workers');
    } finally {
      await app.close();
    }
  });
});
