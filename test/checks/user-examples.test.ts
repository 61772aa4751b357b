import { generateKeyPairSync, sign } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckContext, Observation } from '../../src/checks/check.js';
import { closeThreadPools, loadCheckModule, threadPoolSize } from '../../src/checks/user/index.js';
import { createDeadline } from '../../src/core/deadline.js';
import { DeadlineError } from '../../src/core/errors.js';

/*
 * The examples import `defineCheck` from 'fleetprobe' as users do: this needs package.json "exports"
 * (the package resolves its own name) and a build (bundle/index.js).
 */
const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const log = pino({ level: 'silent' });

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const payload = Buffer.alloc(256 * 1024, 7);
const signature = sign(null, payload, privateKey);
const tampered = Buffer.from(payload);
tampered[1000] = 8;

// Routes of the loopback server the examples probe.
const routes: Record<string, { type: string; body: string | Buffer }> = {
  '/health': {
    type: 'application/json',
    body: JSON.stringify({ status: 'ok', checks: { db: { status: 'ok' } } }),
  },
  '/health-degraded': { type: 'application/json', body: JSON.stringify({ status: 'degraded' }) },
  '/not-json': { type: 'text/plain', body: 'ok' },
  '/payload': { type: 'application/octet-stream', body: payload },
  '/tampered': { type: 'application/octet-stream', body: tampered },
  '/payload.sig': { type: 'application/octet-stream', body: signature },
};

let server: Server;
let port: number;
// Requests to /hang are held open: the check must give up at its deadline.
const hanging = new Set<import('node:http').ServerResponse>();

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/hang') {
      hanging.add(res);
      return;
    }
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': route.type }).end(route.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await closeThreadPools();
  expect(threadPoolSize()).toBe(0);
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

async function runCheck(
  file: string,
  rawArgs: Record<string, unknown>,
  timeoutMs?: number,
): Promise<Observation> {
  const check = await loadCheckModule(example(file));
  const args = check.args.parse(rawArgs);
  const d = createDeadline(timeoutMs ?? check.timeoutMs);
  const ctx: CheckContext = {
    signal: d.signal,
    deadline: d.at,
    timeoutMs: d.timeoutMs,
    log,
    resolve: async () => [],
  };
  try {
    return await check.run({ address: '127.0.0.1', labels: {} }, args, ctx);
  } finally {
    d.dispose();
  }
}

describe('examples/http-json-health.ts', () => {
  it('passes when /health says {"status":"ok"}', async () => {
    const obs = await runCheck('http-json-health.ts', { port: String(port) });
    expect(obs.status).toBe('pass');
    expect(obs.data?.statusCode).toBe(200);
  });

  it('follows a dotted expectField', async () => {
    const obs = await runCheck('http-json-health.ts', { port, expectField: 'checks.db.status' });
    expect(obs.status).toBe('pass');
  });

  it('fails on another value and on an HTTP error status', async () => {
    expect((await runCheck('http-json-health.ts', { port, path: '/health-degraded' })).status).toBe('fail');
    expect((await runCheck('http-json-health.ts', { port, path: '/missing' })).status).toBe('fail');
  });

  it('is an error when the body is not JSON or the port is closed', async () => {
    expect((await runCheck('http-json-health.ts', { port, path: '/not-json' })).status).toBe('error');
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    expect((await runCheck('http-json-health.ts', { port: closedPort })).status).toBe('error');
  });

  it('rejects with the DeadlineError when the endpoint hangs', async () => {
    const err = await runCheck('http-json-health.ts', { port, path: '/hang' }, 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineError);
  });
});

describe('examples/cpu-signature.ts (thread-isolated)', () => {
  it('is thread-isolated', async () => {
    expect((await loadCheckModule(example('cpu-signature.ts'))).isolate).toBe('thread');
  });

  it('passes for a valid Ed25519 signature over the downloaded payload', async () => {
    const obs = await runCheck('cpu-signature.ts', { port, publicKey: publicPem, rounds: 20 });
    expect(obs.status).toBe('pass');
    expect(obs.data?.bytes).toBe(payload.length);
    expect(obs.data?.rounds).toBe(20);
  });

  it('fails for a tampered payload', async () => {
    const obs = await runCheck('cpu-signature.ts', {
      port,
      path: '/tampered',
      publicKey: publicPem,
      rounds: 5,
    });
    expect(obs.status).toBe('fail');
  });

  it('is an error when the signature cannot be downloaded', async () => {
    const obs = await runCheck('cpu-signature.ts', { port, sigPath: '/missing.sig', publicKey: publicPem });
    expect(obs.status).toBe('error');
  });
});
