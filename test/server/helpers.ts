import net from 'node:net';
import { request } from 'undici';
import { type BuildServerOptions, buildServer, type FleetprobeServer } from '../../src/server/index.js';
import { openStore, type Store } from '../../src/store/index.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON of API answers, asserted on by the tests
export type Json = any;

export interface TestApi extends FleetprobeServer {
  store: Store;
  url: string;
  close(): Promise<void>;
}

/** A real listening API on 127.0.0.1:<random> over an in-memory SQLite store. */
export async function startApi(opts: Partial<BuildServerOptions> & { store?: Store } = {}): Promise<TestApi> {
  const store = opts.store ?? (await openStore(':memory:'));
  const server = await buildServer({
    auth: { tokens: [] },
    maxConcurrentRuns: 4,
    sseIntervalMs: 100,
    ...opts,
    store,
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = server.app.server.address() as net.AddressInfo;
  return {
    ...server,
    store,
    url: `http://127.0.0.1:${addr.port}`,
    async close() {
      await server.app.close();
      await store.close();
    },
  };
}

export async function api(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await request(`${base}${path}`, {
    method,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const text = await res.body.text();
  const type = String(res.headers['content-type'] ?? '');
  return { status: res.statusCode, body: type.includes('json') ? JSON.parse(text) : text };
}

/** Reads an SSE stream to its end (or until `until` returns true), returning the events. */
export async function readEvents(
  url: string,
  until?: (e: { event: string; data: Json }) => boolean,
): Promise<{ event: string; data: Json }[]> {
  const res = await request(url, { method: 'GET' });
  if (res.statusCode !== 200) throw new Error(`SSE status ${res.statusCode}: ${await res.body.text()}`);
  const events: { event: string; data: Json }[] = [];
  let buf = '';
  for await (const chunk of res.body) {
    buf += chunk.toString();
    let sep = buf.indexOf('\n\n');
    while (sep !== -1) {
      const frame = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      sep = buf.indexOf('\n\n');
      if (frame.startsWith(':')) continue;
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      const e = { event, data: data === undefined ? undefined : JSON.parse(data) };
      events.push(e);
      if (until?.(e)) {
        res.body.destroy();
        return events;
      }
    }
  }
  return events;
}

/** TCP listeners on the given loopback addresses, all on one port. `mode: 'tarpit'` accepts and never writes. */
export async function listeners(
  addresses: string[],
  mode: 'accept' | 'tarpit' = 'accept',
): Promise<{
  port: number;
  connections: () => number;
  onConnection: Promise<void>;
  close(which?: string[]): Promise<void>;
}> {
  const servers = new Map<string, net.Server>();
  const sockets = new Set<net.Socket>();
  let count = 0;
  let first!: () => void;
  const onConnection = new Promise<void>((r) => {
    first = r;
  });
  let port = 0;
  for (const address of addresses) {
    const server = net.createServer((s) => {
      count++;
      first();
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      if (mode === 'accept') s.end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port }, () => resolve());
    });
    port = (server.address() as net.AddressInfo).port;
    servers.set(address, server);
  }
  return {
    port,
    connections: () => count,
    onConnection,
    async close(which = [...servers.keys()]) {
      for (const a of which) {
        const s = servers.get(a);
        servers.delete(a);
        if (!s) continue;
        await new Promise<void>((r) => s.close(() => r()));
      }
      if (servers.size === 0) for (const s of sockets) s.destroy();
    },
  };
}

export const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}.${i}`);
