import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import { tcpArgs, tcpCheck } from '../../src/checks/tcp/index.js';
import { createDeadline, type Deadline } from '../../src/core/deadline.js';
import { CancelledError, DeadlineError } from '../../src/core/errors.js';
import {
  closedPort,
  socketHandleCount,
  startBanner,
  startHealthy,
  startTarpit,
  type TestServer,
  waitForSocketHandles,
} from '../helpers/misbehaving-servers.js';

const log = pino({ level: 'silent' });
const servers: TestServer[] = [];
const deadlines: Deadline[] = [];

function ctxFor(timeoutMs: number, parent?: AbortSignal): CheckContext {
  const d = createDeadline(timeoutMs, parent);
  deadlines.push(d);
  return { signal: d.signal, deadline: d.at, timeoutMs, log, resolve: async () => [] };
}

async function serve(start: Promise<TestServer>): Promise<TestServer> {
  const s = await start;
  servers.push(s);
  return s;
}

afterEach(async () => {
  for (const d of deadlines.splice(0)) d.dispose();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const target = (port?: number) => ({ address: '127.0.0.1', port, labels: {} });

describe('tcp check', () => {
  it('coerces CLI strings and defaults the port', () => {
    expect(tcpArgs.parse({ port: '8080' }).port).toBe(8080);
    expect(tcpArgs.parse({}).port).toBe(80);
    expect(tcpArgs.safeParse({ port: '70000' }).success).toBe(false);
    expect(tcpArgs.safeParse({ expectBanner: '(' }).success).toBe(false);
  });

  it('passes when the port is open, with connectMs', async () => {
    const s = await serve(startHealthy());
    const obs = await tcpCheck.run(target(s.port), tcpArgs.parse({}), ctxFor(2000));
    expect(obs.status).toBe('pass');
    expect(obs.data?.connectMs).toEqual(expect.any(Number));
    expect(obs.data?.port).toBe(s.port);
    await s.waitAllClosed();
  });

  it('takes the port from the arguments when the target has none', async () => {
    const s = await serve(startHealthy());
    const obs = await tcpCheck.run(target(), tcpArgs.parse({ port: String(s.port) }), ctxFor(2000));
    expect(obs.status).toBe('pass');
  });

  it('errors with ECONNREFUSED on a closed port', async () => {
    const port = await closedPort();
    const obs = await tcpCheck.run(target(port), tcpArgs.parse({}), ctxFor(2000));
    expect(obs.status).toBe('error');
    expect(obs.message).toBe('connect ECONNREFUSED');
  });

  it('matches a banner, and fails on a wrong one', async () => {
    const s = await serve(startBanner('SSH-2.0-OpenSSH_9.2\r\n'));
    const ok = await tcpCheck.run(
      target(s.port),
      tcpArgs.parse({ expectBanner: '^SSH-2\\.0' }),
      ctxFor(2000),
    );
    expect(ok.status).toBe('pass');
    expect(ok.data?.banner).toMatch(/^SSH-2.0/);
    const bad = await tcpCheck.run(
      target(s.port),
      tcpArgs.parse({ expectBanner: '^220 ', maxBannerBytes: '8' }),
      ctxFor(2000),
    );
    expect(bad.status).toBe('fail');
    await s.waitAllClosed();
  });

  it('sends a request before matching the reply', async () => {
    const s = await serve(startHealthy());
    const args = tcpArgs.parse({ send: 'GET / HTTP/1.0\r\n\r\n', expectBanner: '^HTTP/1\\.1 200 ' });
    const obs = await tcpCheck.run(target(s.port), args, ctxFor(2000));
    expect(obs.status).toBe('pass');
    const silent = await tcpCheck
      .run(target(s.port), tcpArgs.parse({ expectBanner: '^HTTP/' }), ctxFor(300))
      .catch((err: unknown) => err);
    expect(silent).toBeInstanceOf(DeadlineError);
  });

  it('rejects with the DeadlineError on a tarpit and destroys the socket', async () => {
    const before = socketHandleCount();
    const s = await serve(startTarpit());
    const run = tcpCheck.run(target(s.port), tcpArgs.parse({ expectBanner: 'never' }), ctxFor(300));
    await expect(run).rejects.toBeInstanceOf(DeadlineError);
    await s.waitAllClosed(2000);
    await s.close();
    servers.length = 0;
    await waitForSocketHandles(before);
  });

  it('rejects with the cancel reason when the parent aborts, and at once when already aborted', async () => {
    const s = await serve(startTarpit());
    const parent = new AbortController();
    const ctx = ctxFor(10_000, parent.signal);
    const run = tcpCheck.run(target(s.port), tcpArgs.parse({ expectBanner: 'never' }), ctx);
    await s.waitAccepted();
    parent.abort(new CancelledError());
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    await s.waitAllClosed();
    const already = new AbortController();
    already.abort(new CancelledError());
    await expect(
      tcpCheck.run(target(s.port), tcpArgs.parse({}), ctxFor(1000, already.signal)),
    ).rejects.toBeInstanceOf(CancelledError);
  });
});
