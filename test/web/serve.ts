import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BuildServerOptions } from '../../src/server/index.js';
import { openStore } from '../../src/store/index.js';
import { startApi, type TestApi } from '../server/helpers.js';

export type DashboardServer = TestApi;

/**
 * The real API (buildServer, which registers the dashboard), listening on 127.0.0.1:<random> over a
 * SQLite file in a fresh temp dir (removed on close), as `fleetprobe server` keeps its runs.
 */
export async function startDashboard(opts: Partial<BuildServerOptions> = {}): Promise<DashboardServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetprobe-web-'));
  const server = await startApi({ ...opts, store: await openStore(path.join(dir, 'runs.db')) });
  return {
    ...server,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
