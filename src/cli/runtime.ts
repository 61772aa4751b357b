import { createBuiltinRegistry } from '../checks/builtins.js';
import type { CheckRegistry } from '../checks/registry.js';
import { hostnameResolver } from '../targets/index.js';

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

/** Name resolution for hostname targets and `--resolve`: the system resolver, or `--resolver`'s server. */
export function makeResolver(resolver?: string): (name: string, signal: AbortSignal) => Promise<string[]> {
  return hostnameResolver(resolver);
}

/** Closes process-wide pools (DNS sockets, worker threads) so the process can exit on its own. */
export async function closeSharedResources(): Promise<void> {
  if (userChecksLoaded) {
    const { closeThreadPools } = await import('../checks/user/index.js');
    await closeThreadPools();
  }
}
