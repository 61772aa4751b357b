import { mkdtemp, rm } from 'node:fs/promises';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type BuildServerOptions, buildServer, type FleetprobeServer } from '../../src/server/index.js';
import { openStore, type Store } from '../../src/store/index.js';

export interface DashboardServer extends FleetprobeServer {
  store: Store;
  url: string;
  close(): Promise<void>;
}

/**
 * The real API (buildServer, which registers the dashboard), listening on
 * 127.0.0.1:<random> over a SQLite file in a fresh temp dir (removed on close).
 */
export async function startDashboard(opts: Partial<BuildServerOptions> = {}): Promise<DashboardServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetprobe-web-'));
  const store = await openStore(path.join(dir, 'runs.db'));
  const server = await buildServer({ auth: { tokens: [] }, sseIntervalMs: 100, ...opts, store });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = server.app.server.address() as net.AddressInfo;
  return {
    ...server,
    store,
    url: `http://127.0.0.1:${addr.port}`,
    async close() {
      await server.app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
