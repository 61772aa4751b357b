import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEB_ROOT } from '../../src/server/dashboard-routes.js';
import { type DashboardServer, startDashboard } from './serve.js';

const get = async (base: string, path: string, headers: Record<string, string> = {}) => {
  const res = await request(`${base}${path}`, { headers });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body };
};

describe('dashboardRoutes', () => {
  let srv: DashboardServer;
  beforeAll(async () => {
    // Tokens configured: the dashboard files stay public, the API does not.
    srv = await startDashboard({ auth: { tokens: [{ token: 'read-token-123', role: 'read' }] } });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('serves index.html at / with a CSP and no-cache, without a token', async () => {
    const res = await get(srv.url, '/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(res.body).toBe(await readFile(`${DEFAULT_WEB_ROOT}/index.html`, 'utf8'));
    // ...while the API still wants one
    expect((await get(srv.url, '/api/v1/runs')).status).toBe(401);
  });

  it.each([
    ['/ui/app.js', 'text/javascript; charset=utf-8'],
    ['/ui/views/run.js', 'text/javascript; charset=utf-8'],
    ['/ui/style.css', 'text/css; charset=utf-8'],
    ['/ui/favicon.svg', 'image/svg+xml'],
  ])('serves %s as %s with an ETag, answering 304 to If-None-Match', async (path, type) => {
    const res = await get(srv.url, path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toBe(await readFile(`${DEFAULT_WEB_ROOT}${path}`, 'utf8'));
    const etag = String(res.headers.etag);
    expect(etag).toMatch(/^"[\w-]{20,}"$/);
    const again = await get(srv.url, path, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it.each([
    '/ui/../package.json',
    '/ui/%2e%2e/%2e%2e/package.json',
    '/ui/..%2f..%2fpackage.json',
    '/ui/views/..%2F..%2F..%2Fpackage.json',
    '/ui/.hidden',
    '/ui/',
    '/ui/views',
    '/ui/missing.js',
    '/ui/app.ts',
    '/ui/%00.js',
  ])('answers an error (never a file outside web/ui) for %s', async (path) => {
    const res = await get(srv.url, path);
    // 404 from the dashboard route; 401 when the router normalised the path away from /ui/* (an unknown
    // route needs a token on a server with tokens).
    expect([401, 404]).toContain(res.status);
    expect(res.body).not.toContain('"name": "fleetprobe"');
    expect(JSON.parse(res.body)).toMatchObject({ error: res.status === 404 ? 'not_found' : 'unauthorized' });
  });
});
