import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

export interface DashboardRoutesOptions {
  /** Folder holding index.html and ui/ (default: the package's web/ folder). */
  root?: string;
}

/**
 * The package's web/ folder: ../../web from src/server/ (tsx) and dist/server/; in bundle/ this module's
 * import.meta.url is rewritten to that layout (scripts/bundle.mjs), whichever chunk holds it.
 */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

// Same origin only: the dashboard loads nothing from elsewhere and talks to this API alone.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// One segment: starts with a letter or digit (no dot files, no `..`), then a safe set of characters.
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface Cached {
  mtimeMs: number;
  size: number;
  body: Buffer;
  etag: string;
}

/**
 * Serves the dashboard: `GET /` is web/index.html and `GET /ui/<path>` the files under web/ui/. Both routes
 * are public (a browser cannot send a bearer token when it navigates; the page asks for one and sends it on
 * its API calls). Files are read with node:fs and kept in memory until their mtime or size changes. Caching:
 * `no-cache` plus a content ETag, so a browser revalidates (304) and never runs stale modules after an
 * upgrade. Paths are checked segment by segment and resolved inside web/ui; anything else is a 404.
 * Register it without a prefix.
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardRoutesOptions> = async (app, opts) => {
  const root = path.resolve(opts.root ?? DEFAULT_WEB_ROOT);
  const uiRoot = path.join(root, 'ui');
  const cache = new Map<string, Cached>();

  const load = async (file: string): Promise<Cached | undefined> => {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(file);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = await readFile(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const entry = { mtimeMs: st.mtimeMs, size: st.size, body, etag };
    cache.set(file, entry);
    return entry;
  };

  const send = async (req: FastifyRequest, reply: FastifyReply, file: string, shown: string) => {
    const type = TYPES[path.extname(file).toLowerCase()];
    const entry = type ? await load(file) : undefined;
    if (!type || !entry) throw new ApiError('not_found', `no dashboard file ${shown}`);
    reply
      .header('cache-control', 'no-cache')
      .header('etag', entry.etag)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (type.startsWith('text/html')) reply.header('content-security-policy', CSP);
    if (req.headers['if-none-match'] === entry.etag) return reply.code(304).send();
    return reply.type(type).send(entry.body);
  };

  app.get('/', { config: { role: 'public' } }, (req, reply) =>
    send(req, reply, path.join(root, 'index.html'), '/'),
  );

  app.get('/ui/*', { config: { role: 'public' } }, (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const segments = rest.split('/');
    const shown = `/ui/${rest}`;
    if (!segments.every((s) => SEGMENT.test(s)))
      throw new ApiError('not_found', `no dashboard file ${shown}`);
    const file = path.resolve(uiRoot, ...segments);
    if (!file.startsWith(uiRoot + path.sep)) throw new ApiError('not_found', `no dashboard file ${shown}`);
    return send(req, reply, file, shown);
  });
};
