import type { Check } from './check.js';

/**
 * Each built-in check's module, loaded on demand: a worker thread of the thread executor loads only the check
 * of the run it gets (the others, with the DNS client and the ssh check's modules, cost ~45 ms of CPU at
 * start). The same check objects as `createBuiltinRegistry` registers.
 */
const LOADERS: Readonly<Record<string, () => Promise<Check<unknown>>>> = {
  tcp: async () => (await import('./tcp/index.js')).tcpCheck as Check<unknown>,
  http: async () => (await import('./http/index.js')).httpCheck as Check<unknown>,
  dns: async () => (await import('./dns/index.js')).dnsCheck as Check<unknown>,
  ssh: async () => (await import('./ssh/ssh-check.js')).sshCheck as Check<unknown>,
};

/** The built-in check named `name`, or undefined when there is none. */
export async function loadBuiltinCheck(name: string): Promise<Check<unknown> | undefined> {
  return Object.hasOwn(LOADERS, name) ? LOADERS[name]!() : undefined;
}
