import { loadBuiltinCheck } from '../checks/builtin-loaders.js';
import { CheckRegistry } from '../checks/registry.js';
import { type ResolveFn, systemResolve } from '../targets/system-resolver.js';
import { parseDurationMs } from './parse-options.js';

let userChecksLoaded = false;
/** Whether the DNS client's modules were loaded (the dns check, `--resolver`): its shared client is closed then. */
let dnsClientLoaded = false;

/**
 * The built-in checks plus, with `--check-module`, the user's check (loaded on demand: tsx and piscina are
 * heavy). `only`: the one check a run names; without a check module, only that built-in is loaded (the others,
 * with the DNS client and the ssh check's modules, cost ~60 ms of CPU at start); a name that is no built-in
 * gets every built-in, so that the unknown check's error lists them.
 */
export async function buildRegistry(checkModule?: string, only?: string): Promise<CheckRegistry> {
  const single = checkModule === undefined && only !== undefined ? await loadBuiltinCheck(only) : undefined;
  let registry: CheckRegistry;
  if (single) {
    registry = new CheckRegistry();
    registry.register(single);
  } else {
    registry = (await import('../checks/builtins.js')).createBuiltinRegistry();
  }
  if (registry.has('dns')) dnsClientLoaded = true;
  if (checkModule) {
    const { loadCheckModule } = await import('../checks/user/index.js');
    userChecksLoaded = true;
    registry.register(await loadCheckModule(checkModule));
  }
  return registry;
}

/**
 * Name resolution for hostname targets and `--resolve`: the system resolver, or with `--resolver` fleetprobe's
 * own DNS client (`makeResolver`, loaded only then).
 */
export async function runResolver(resolver: string | undefined): Promise<ResolveFn> {
  if (resolver === undefined) return systemResolve;
  const { makeResolver } = await import('../targets/make-resolver.js');
  dnsClientLoaded = true;
  return makeResolver(resolver);
}

/** Closes process-wide pools (DNS sockets, worker threads) so the process can exit on its own. */
export async function closeSharedResources(): Promise<void> {
  if (dnsClientLoaded) {
    const { closeSharedDnsClient } = await import('../dns/shared-client.js');
    await closeSharedDnsClient();
  }
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
