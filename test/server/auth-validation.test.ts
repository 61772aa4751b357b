import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokens } from '../../src/server/index.js';
import { api, startApi, type TestApi } from './helpers.js';

const READ = 'read-token-0123456789';
const OPERATE = 'operate-token-0123456789';

describe('API auth: bearer tokens with roles read and operate', () => {
  let srv: TestApi;
  beforeAll(async () => {
    srv = await startApi({ auth: { tokens: parseTokens(`read:${READ},operate:${OPERATE}`, 'test') } });
  });
  afterAll(async () => {
    await srv?.close();
  });

  const body = { check: 'tcp', targets: ['127.24.0.1'], args: { port: 9 } };

  it('refuses requests without a token or with an unknown one (401)', async () => {
    const none = await api(srv.url, 'GET', '/api/v1/runs');
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('unauthorized');
    expect((await api(srv.url, 'GET', '/api/v1/runs', undefined, 'wrong-token-xxxxxxxx')).status).toBe(401);
    expect((await api(srv.url, 'POST', '/api/v1/runs', body)).status).toBe(401);
    expect((await api(srv.url, 'GET', '/metrics')).status).toBe(401);
  });

  it('a read token reads but may not start or cancel runs (403)', async () => {
    expect((await api(srv.url, 'GET', '/api/v1/runs', undefined, READ)).status).toBe(200);
    const post = await api(srv.url, 'POST', '/api/v1/runs', body, READ);
    expect(post.status).toBe(403);
    expect(post.body.error).toBe('forbidden');
    expect((await api(srv.url, 'POST', '/api/v1/runs/x/cancel', undefined, READ)).status).toBe(403);
  });

  it('an operate token does both; /healthz and the OpenAPI document are public', async () => {
    const post = await api(srv.url, 'POST', '/api/v1/runs', body, OPERATE);
    expect(post.status).toBe(202);
    expect((await api(srv.url, 'GET', `/api/v1/runs/${post.body.id}`, undefined, OPERATE)).status).toBe(200);
    expect((await api(srv.url, 'GET', '/healthz')).status).toBe(200);
    expect((await api(srv.url, 'GET', '/api/v1/openapi.json')).status).toBe(200);
  });

  it('token files: bad entries are refused with FP_USAGE', () => {
    expect(parseTokens('# comment\nread:abcdefgh12345678\n\noperate:ijklmnop12345678\n', 'f')).toEqual([
      { role: 'read', token: 'abcdefgh12345678' },
      { role: 'operate', token: 'ijklmnop12345678' },
    ]);
    expect(() => parseTokens('admin:abcdefgh12345678', 'f')).toThrow(
      expect.objectContaining({ code: 'FP_USAGE' }),
    );
    expect(() => parseTokens('read:short', 'f')).toThrow(expect.objectContaining({ code: 'FP_USAGE' }));
  });
});

describe('API validation: 400 naming the field, 413, 403 outside the allow-list', () => {
  let srv: TestApi;
  beforeAll(async () => {
    srv = await startApi({ allowTargets: ['127.25.0.0/24', '::1'] });
  });
  afterAll(async () => {
    await srv?.close();
  });

  const post = (body: unknown) => api(srv.url, 'POST', '/api/v1/runs', body);
  const ok = { check: 'tcp', targets: ['127.25.0.1'], args: { port: 9 } };

  it.each([
    ['a bad number', { ...ok, concurrency: 0 }, /^body\.concurrency: /],
    ['a wrong type', { ...ok, retries: 'two' }, /^body\.retries: /],
    ['an unknown field', { ...ok, concurency: 5 }, /^body\.concurency: /],
    ['a missing field', { targets: ['127.25.0.1'] }, /^body\.check: /],
    ['no targets', { ...ok, targets: [] }, /^body\.targets: /],
    ['an unknown check', { ...ok, check: 'nope' }, /^body\.check: unknown check "nope"/],
    ['bad check arguments', { ...ok, args: { port: 'http' } }, /^body\.args: .*port/],
    ['an unknown check argument', { ...ok, args: { prot: 80 } }, /^body\.args: .*prot/],
    ['a bad target', { ...ok, targets: ['127.25.0.1', '127.25.0.300'] }, /^body\.targets\[1\]: /],
    ['not an object', [1, 2], /^body: /],
  ])('%s -> 400 naming the field', async (_name, body, message) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('bad_request');
    expect(res.body.message).toMatch(message);
  });

  it('malformed JSON -> 400 about the body', async () => {
    const res = await api(srv.url, 'POST', '/api/v1/runs', '{"check": "tcp", ');
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^body: /);
  });

  it('a body over 1 MiB -> 413', async () => {
    const res = await post({
      ...ok,
      targets: Array.from({ length: 9000 }, () => '127.25.0.1'.padEnd(150, ' ')),
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('bad query parameters -> 400 naming them', async () => {
    const res = await api(srv.url, 'GET', '/api/v1/runs?limit=0');
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^query\.limit: /);
    const state = await api(srv.url, 'GET', '/api/v1/runs?state=sleeping');
    expect(state.body.message).toMatch(/^query\.state: /);
  });

  it.each([
    ['an address outside', '127.26.0.1'],
    ['a block larger than the allowed one', '127.25.0.0/16'],
    ['a block overlapping the edge', '127.24.255.0/23'],
    ['a name (cannot be vetted before resolving)', 'localhost'],
    ['another IPv6 address', '::2'],
  ])('%s -> 403', async (_name, target) => {
    const res = await post({ ...ok, targets: ['127.25.0.7', target] });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    expect(res.body.message).toMatch(/^body\.targets\[1\]: /);
  });

  it('targets inside the allow-list are accepted', async () => {
    const res = await post({ ...ok, targets: ['127.25.0.0/26', '127.25.0.255', '[::1]:9'] });
    expect(res.status).toBe(202);
    expect(res.body.total).toBe(66);
  });
});
