import { createBuiltinRegistry } from '../checks/builtins.js';
import type { CheckRegistry } from '../checks/registry.js';
import { closeSharedDnsClient } from '../dns/index.js';
import { parseDurationMs } from './parse-options.js';

let userChecksLoaded = false;

/** The built-in checks plus, with `--check-module`, the user's check (loaded on demand: tsx and piscina are heavy). */
export async function buildRegistry(checkModule?: string): Promise<CheckRegistry> {
  const registry = createBuiltinRegistry();
  if (checkModule) {
    const { loadCheckModule } = await import('../checks/user/index.js');
    userChecksLoaded = true;
    registry.register(await loadCheckModule(checkModule));
  }
  return registry;
}

/** Closes process-wide pools (DNS sockets, worker threads) so the process can exit on its own. */
export async function closeSharedResources(): Promise<void> {
  await closeSharedDnsClient();
  if (userChecksLoaded) {
    const { closeThreadPools } = await import('../checks/user/index.js');
    await closeThreadPools();
  }
}

/**
 * `FLEETPROBE_LEASE` (a duration, e.g. `30s`): how long a process's lease on the runs it executes lasts
 * without a heartbeat; undefined (the default, 30 s) when unset.
 */
export function leaseTtlMs(): number | undefined {
  const text = process.env.FLEETPROBE_LEASE;
  return text ? parseDurationMs(text, 'FLEETPROBE_LEASE') : undefined;
}
