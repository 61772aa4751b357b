import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import {
  buildRequest,
  hostHeaderFor,
  httpArgs,
  httpCheck,
  serverNameFor,
} from '../../src/checks/http/index.js';
import { createDeadline, type Deadline } from '../../src/core/deadline.js';
import { DeadlineError } from '../../src/core/errors.js';
import {
  makeTestCerts,
  socketHandleCount,
  startDripBody,
  startEndlessBody,
  startGarbage,
  startHalfHeaders,
  startHealthy,
  startHttp,
  startHttps,
  startReset,
  startTarpit,
  startUnavailable,
  type TestCerts,
  type TestServer,
  waitForSocketHandles,
} from '../helpers/misbehaving-servers.js';

const log = pino({ level: 'silent' });
const servers: TestServer[] = [];
const deadlines: Deadline[] = [];
let certs: TestCerts;

function ctxFor(timeoutMs: number): CheckContext {
  const d = createDeadline(timeoutMs);
  deadlines.push(d);
  return { signal: d.signal, deadline: d.at, timeoutMs, log, resolve: async () => [] };
}

async function serve(start: Promise<TestServer>): Promise<TestServer> {
  const s = await start;
  servers.push(s);
  return s;
}

function probe(s: TestServer, args: Record<string, unknown> = {}, timeoutMs = 3000, name?: string) {
  return httpCheck.run(
    { address: '127.0.0.1', port: s.port, name, labels: {} },
    httpArgs.parse(args),
    ctxFor(timeoutMs),
  );
}

/** The check rejects with the DeadlineError, and the server sees its connection closed (destroyed). */
async function expectTimeout(s: TestServer, run: Promise<unknown>): Promise<void> {
  await expect(run).rejects.toBeInstanceOf(DeadlineError);
  await s.waitAllClosed(2000);
}

beforeAll(() => {
  certs = makeTestCerts(30);
});
afterAll(() => certs.remove());
afterEach(async () => {
  for (const d of deadlines.splice(0)) d.dispose();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('http check arguments', () => {
  it('coerces CLI strings and applies defaults', () => {
    const a = httpArgs.parse({
      port: '8080',
      maxBytes: '10',
      insecure: 'true',
      stream: '1',
      certMinDays: '14',
    });
    expect(a).toMatchObject({ port: 8080, maxBytes: 10, insecure: true, stream: true, certMinDays: 14 });
    const d = httpArgs.parse({});
    expect(d).toMatchObject({ scheme: 'http', path: '/', method: 'GET', maxBytes: 65536, insecure: false });
    expect(d.expectStatus.matches(204)).toBe(true);
    expect(d.expectStatus.matches(301)).toBe(true);
    expect(d.expectStatus.matches(404)).toBe(false);
  });

  it('parses expectStatus forms', () => {
    const m = httpArgs.parse({ expectStatus: '200,301' }).expectStatus;
    expect([200, 301, 302].map(m.matches)).toEqual([true, true, false]);
    expect(httpArgs.parse({ expectStatus: [200, '5xx'] }).expectStatus.matches(503)).toBe(true);
    expect(httpArgs.parse({ expectStatus: 204 }).expectStatus.matches(204)).toBe(true);
    expect(httpArgs.safeParse({ expectStatus: '2x' }).success).toBe(false);
  });

  it('accepts headers as an object, a list or a string, and rejects injection', () => {
    expect(httpArgs.parse({ headers: { 'X-A': '1' } }).headers).toEqual([['X-A', '1']]);
    expect(httpArgs.parse({ headers: ['X-A: 1', 'X-B: 2'] }).headers).toEqual([
      ['X-A', '1'],
      ['X-B', '2'],
    ]);
    expect(httpArgs.parse({ headers: 'X-A: 1; Cookie: a=1; b=2' }).headers).toEqual([
      ['X-A', '1'],
      ['Cookie', 'a=1; b=2'],
    ]);
    expect(httpArgs.safeParse({ headers: { 'X-A': 'a\r\nX-Evil: 1' } }).success).toBe(false);
    expect(httpArgs.safeParse({ headers: { 'Bad Name': '1' } }).success).toBe(false);
    expect(httpArgs.safeParse({ headers: { Host: 'x' } }).success).toBe(false);
    expect(httpArgs.safeParse({ path: '/a b' }).success).toBe(false);
    expect(httpArgs.safeParse({ host: 'a\r\nb' }).success).toBe(false);
    expect(httpArgs.safeParse({ method: 'GET /x' }).success).toBe(false);
  });

  it('writes Host with a non-default port, IPv6 brackets, and a non-IP SNI', () => {
    const a = httpArgs.parse({});
    expect(hostHeaderFor({ address: '::1', labels: {} }, a, 8080)).toBe('[::1]:8080');
    expect(hostHeaderFor({ address: '127.0.0.1', name: 'web1', labels: {} }, a, 80)).toBe('web1');
    const s = httpArgs.parse({ scheme: 'https', host: 'example.test' });
    expect(hostHeaderFor({ address: '127.0.0.1', labels: {} }, s, 443)).toBe('example.test');
    expect(serverNameFor({ address: '127.0.0.1', labels: {} }, s)).toBe('example.test');
    expect(serverNameFor({ address: '127.0.0.1', name: '127.0.0.1', labels: {} }, httpArgs.parse({}))).toBe(
      undefined,
    );
    const req = buildRequest(httpArgs.parse({ headers: { 'X-A': '1' } }), 'h:81');
    expect(req).toBe(
      'GET / HTTP/1.1\r\nHost: h:81\r\nUser-Agent: fleetprobe/0.1\r\nX-A: 1\r\nAccept: */*\r\nConnection: close\r\n\r\n',
    );
  });
});

describe('http check', () => {
  it('passes on 200 with timings, and sends the request it was told to', async () => {
    let seen: Record<string, unknown> = {};
    const s = await serve(
      startHttp((req, res) => {
        seen = { method: req.method, url: req.url, host: req.headers.host, xa: req.headers['x-a'] };
        res.end('ok\n');
      }),
    );
    const obs = await probe(s, {
      path: '/health?x=1',
      method: 'POST',
      headers: { 'X-A': 'v' },
      expectBody: 'ok',
    });
    expect(obs.status).toBe('pass');
    expect(obs.message).toBe('200 OK');
    expect(obs.data).toMatchObject({ status: 200, bytes: 3, dnsMs: 0 });
    for (const k of ['connectMs', 'ttfbMs', 'totalMs']) expect(obs.data?.[k]).toEqual(expect.any(Number));
    expect(seen).toEqual({ method: 'POST', url: '/health?x=1', host: `127.0.0.1:${s.port}`, xa: 'v' });
  });

  it('fails on 503 when 2xx is expected', async () => {
    const s = await serve(startUnavailable());
    const obs = await probe(s, { expectStatus: '2xx' });
    expect(obs.status).toBe('fail');
    expect(obs.message).toBe('expected 2xx, got 503');
    expect(obs.data?.status).toBe(503);
  });

  it('fails when the body does not match', async () => {
    const s = await serve(startHealthy());
    const obs = await probe(s, { expectBody: '^healthy$' });
    expect(obs.status).toBe('fail');
    expect(obs.message).toMatch(/^body does not match/);
  });

  it('matches expectBody on a chunked body', async () => {
    const s = await serve(
      startHttp((_req, res) => {
        res.write('status: ');
        setImmediate(() => res.end('all good'));
      }),
    );
    const obs = await probe(s, { expectBody: 'status: all good' });
    expect(obs.status).toBe('pass');
    expect(obs.data?.bytes).toBe(16);
  });

  it('caps an endless body at maxBytes and destroys the connection', async () => {
    const s = await serve(startEndlessBody());
    const obs = await probe(s, { maxBytes: 100_000, expectBody: '^x+$' });
    expect(obs.status).toBe('pass');
    expect(obs.data).toMatchObject({ status: 200, bytes: 100_000, truncated: true });
    await s.waitAllClosed(2000);
  });

  it('fails a stalled stream after idleTimeout', async () => {
    const s = await serve(startDripBody(1000));
    const obs = await probe(s, { stream: true, idleTimeout: 200 }, 5000);
    expect(obs.status).toBe('fail');
    expect(obs.message).toBe('body stalled for 200 ms');
    await s.waitAllClosed(2000);
  });

  it('passes a stream that still flows at the deadline', async () => {
    const s = await serve(startDripBody(50));
    const obs = await probe(s, { stream: true, idleTimeout: 2000 }, 400);
    expect(obs.status).toBe('pass');
    expect(obs.data?.bytes).toBeGreaterThan(0);
    await s.waitAllClosed(2000);
  });

  it('times out on a drip body without stream, destroying the socket', async () => {
    const s = await serve(startDripBody(1000));
    const obs = await probe(s, {}, 300);
    // The head arrived: the timeout keeps the status seen.
    expect(obs).toMatchObject({ status: 'timeout', data: { status: 200 } });
    await s.waitAllClosed(2000);
  });

  it('errors on garbage, reset and half headers', async () => {
    const g = await serve(startGarbage());
    const garbage = await probe(g);
    expect(garbage.status).toBe('error');
    expect(garbage.message).toBe('bad response: not HTTP');
    const r = await serve(startReset());
    const reset = await probe(r);
    expect(reset.status).toBe('error');
    expect(reset.message).toMatch(/^(read|connect) ECONNRESET$/);
    const h = await serve(startHalfHeaders());
    await expectTimeout(h, probe(h, {}, 300));
  });

  it('times out on a tarpit, destroying the socket', async () => {
    const s = await serve(startTarpit());
    await expectTimeout(s, probe(s, {}, 300));
  });

  it('passes https with the test CA, reporting the certificate', async () => {
    const s = await serve(startHttps(certs));
    const obs = await probe(s, { scheme: 'https', ca: certs.caPath }, 3000, 'localhost');
    expect(obs.status).toBe('pass');
    expect(obs.data?.tlsMs).toEqual(expect.any(Number));
    expect(obs.data?.cert).toMatchObject({ subject: 'localhost', issuer: 'fleetprobe test CA' });
    const days = (obs.data!.cert as { daysLeft: number }).daysLeft;
    expect(days).toBeGreaterThanOrEqual(28);
    expect(days).toBeLessThanOrEqual(30);
    // By IP (no SNI): the leaf also names 127.0.0.1.
    expect((await probe(s, { scheme: 'https', ca: certs.caPath })).status).toBe('pass');
  });

  it('errors on an untrusted certificate, passes it with insecure', async () => {
    const s = await serve(startHttps(certs));
    const bad = await probe(s, { scheme: 'https' }, 3000, 'localhost');
    expect(bad.status).toBe('error');
    expect(bad.message).toMatch(/^tls [A-Z_]+$/);
    const ok = await probe(s, { scheme: 'https', insecure: 'true' }, 3000, 'localhost');
    expect(ok.status).toBe('pass');
  });

  it('errors on a certificate for another name', async () => {
    const s = await serve(startHttps(certs));
    const obs = await probe(s, { scheme: 'https', ca: certs.caPath, host: 'other.test' });
    expect(obs.status).toBe('error');
    expect(obs.message).toBe('tls ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('fails when the certificate expires sooner than certMinDays', async () => {
    const s = await serve(startHttps(certs));
    const obs = await probe(s, { scheme: 'https', ca: certs.caPath, certMinDays: 60 });
    expect(obs.status).toBe('fail');
    expect(obs.message).toMatch(/^cert expires in \d+ days < 60$/);
  });

  it('errors on a refused connection', async () => {
    const s = await startHealthy();
    const port = s.port;
    await s.close();
    const obs = await httpCheck.run(
      { address: '127.0.0.1', port, labels: {} },
      httpArgs.parse({}),
      ctxFor(2000),
    );
    expect(obs).toMatchObject({ status: 'error', message: 'connect ECONNREFUSED' });
  });

  it('leaves no socket handles behind', async () => {
    const before = socketHandleCount();
    const t = await startTarpit();
    const e = await startEndlessBody();
    await expect(probe(t, {}, 200)).rejects.toBeInstanceOf(DeadlineError);
    await probe(e, { maxBytes: 1000 });
    await t.waitAllClosed();
    await e.waitAllClosed();
    await Promise.all([t.close(), e.close()]);
    await waitForSocketHandles(before);
  });
});
