import net from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthThrottle, MIN_TOKEN_CHARS, newToken, parseTokens } from '../../src/server/index.js';
import { api, startApi, type TestApi } from './helpers.js';

const READ = newToken();
const OPERATE = newToken();

/** A GET from a given local address (127.0.0.x), so one test can be several clients. */
async function getFrom(
  localAddress: string,
  url: string,
  token?: string,
): Promise<{ status: number; retryAfter: string | undefined; body: { error?: string } }> {
  const dispatcher = new Agent({ localAddress });
  try {
    const res = await request(url, {
      dispatcher,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const body = (await res.body.json()) as { error?: string };
    const ra = res.headers['retry-after'];
    return { status: res.statusCode, retryAfter: typeof ra === 'string' ? ra : undefined, body };
  } finally {
    await dispatcher.close();
  }
}

describe('API tokens: 16+ characters, and `token new` makes good ones', () => {
  it('refuses a short token naming where it came from, without echoing it', () => {
    const err = (() => {
      try {
        parseTokens('# ops\nread:0123456789abcdef\noperate:s3cr3t\n', '/etc/fleetprobe/tokens');
      } catch (e) {
        return e as Error & { code: string };
      }
    })();
    expect(err?.code).toBe('FP_USAGE');
    expect(err?.message).toContain('/etc/fleetprobe/tokens: line 3');
    expect(err?.message).not.toContain('s3cr3t');
    expect(() => parseTokens(`read:${'x'.repeat(MIN_TOKEN_CHARS - 1)}`, 'FLEETPROBE_TOKENS')).toThrow(
      /FLEETPROBE_TOKENS: entry 1/,
    );
    expect(parseTokens(`read:${'x'.repeat(MIN_TOKEN_CHARS)}`, 'f')).toHaveLength(1);
  });

  it('newToken() is 32 random bytes in base64url', () => {
    const a = newToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(a);
    expect(parseTokens(`operate:${a}`, 'f')).toEqual([{ role: 'operate', token: a }]);
  });
});

describe('failed authentication is slowed per client address', () => {
  let srv: TestApi;
  beforeAll(async () => {
    srv = await startApi({ auth: { tokens: parseTokens(`read:${READ},operate:${OPERATE}`, 'test') } });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('past 10 failures a client gets 429 + Retry-After; other clients and valid tokens elsewhere are not slowed', async () => {
    const url = `${srv.url}/api/v1/runs`;
    // A busy client with a valid token: many requests, never slowed, and they cost it no failure budget.
    for (let i = 0; i < 30; i++) expect((await getFrom('127.0.0.3', url, READ)).status).toBe(200);

    for (let i = 0; i < 10; i++) {
      const r = await getFrom('127.0.0.2', url, `guess-${i}-xxxxxxxxxxxxxxxx`);
      expect(r.status).toBe(401);
    }
    const refused = await getFrom('127.0.0.2', url, 'guess-10-xxxxxxxxxxxxxxxx');
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('too_many_requests');
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(6);
    // The guessing address is refused before its token is looked at, so guesses stop being checked.
    expect((await getFrom('127.0.0.2', url, READ)).status).toBe(429);
    // Everyone else carries on, including the busy client, which still has its whole budget.
    expect((await getFrom('127.0.0.3', url, READ)).status).toBe(200);
    for (let i = 0; i < 10; i++)
      expect((await getFrom('127.0.0.3', url, 'nope-xxxxxxxxxxxxxxxx')).status).toBe(401);
    // Public routes are never throttled.
    expect((await getFrom('127.0.0.2', `${srv.url}/healthz`)).status).toBe(200);
  });

  it('refills one failure per refillMs and keeps at most maxClients addresses', () => {
    let now = 0;
    const t = new AuthThrottle({ burst: 3, refillMs: 1000, maxClients: 2 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(t.retryAfterMs('a')).toBe(0);
      t.failed('a');
    }
    expect(t.retryAfterMs('a')).toBe(1000);
    now = 400;
    expect(t.retryAfterMs('a')).toBe(600);
    now = 1000;
    expect(t.retryAfterMs('a')).toBe(0);
    t.failed('b');
    t.failed('c'); // over the cap: the least recently failed ('a') is forgotten
    expect(t.size).toBe(2);
    expect(t.retryAfterMs('a')).toBe(0);
    now = 10_000; // refilled addresses are dropped when next looked at
    expect(t.retryAfterMs('b')).toBe(0);
    expect(t.size).toBe(1);
  });
});

describe('event streams are capped (--max-sse): 503 beyond the cap, slots freed on close', () => {
  const CAP = 3;
  let srv: TestApi;
  let tarpit: net.Server;
  const sockets = new Set<net.Socket>();
  const open: { destroy(): void }[] = [];

  beforeAll(async () => {
    srv = await startApi({ maxSseStreams: CAP });
    // A silent listener: a tcp check waiting for a banner keeps the run running until we cancel it.
    tarpit = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.destroy();
  });
  afterAll(async () => {
    await srv?.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => tarpit?.close(() => r()));
  });

  /** Opens a real SSE connection; resolves once the status is known (the body stays open). */
  async function openEvents(id: string): Promise<number> {
    const res = await request(`${srv.url}/api/v1/runs/${id}/events`);
    if (res.statusCode === 200) open.push({ destroy: () => res.body.destroy() });
    else await res.body.dump();
    return res.statusCode;
  }

  it('the connection past the cap gets 503; closing one lets a new one in', async () => {
    const port = (tarpit.address() as net.AddressInfo).port;
    const post = await api(srv.url, 'POST', '/api/v1/runs', {
      check: 'tcp',
      targets: ['127.0.0.1'],
      args: { port, expectBanner: '^never' },
      timeoutMs: 60_000,
    });
    expect(post.status).toBe(202);
    const id = post.body.id as string;

    for (let i = 0; i < CAP; i++) expect(await openEvents(id)).toBe(200);
    const over = await request(`${srv.url}/api/v1/runs/${id}/events`);
    expect(over.statusCode).toBe(503);
    expect(((await over.body.json()) as { error: string }).error).toBe('unavailable');

    open.shift()!.destroy();
    // The server frees the slot when it sees the socket close: try until it has (bounded).
    let status = 503;
    for (let i = 0; i < 200 && status === 503; i++) {
      status = await openEvents(id);
      if (status === 503) await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toBe(200);
    expect(await openEvents(id)).toBe(503);
    expect((await api(srv.url, 'POST', `/api/v1/runs/${id}/cancel`)).status).toBeLessThan(300);
  });
});
