import { lookup } from 'node:dns/promises';
import { abortPromise } from '../core/deadline.js';

/**
 * Resolves a name to its addresses (A records first, then AAAA). Rejects with `signal.reason` when the
 * signal aborts. An injectable port: the engine and `openTargets` take any function of this shape.
 */
export type ResolveFn = (name: string, signal: AbortSignal) => Promise<string[]>;

/** getaddrinfo's answers for a name that does not exist or has no address. */
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NODATA', 'EAI_NONAME']);

/**
 * The system resolver, as `ssh` and `curl` resolve: getaddrinfo, so /etc/hosts and nsswitch apply.
 * IPv4 addresses first, then IPv6; `[]` for a name that does not exist; other failures reject with node's
 * error (`EAI_AGAIN`...). getaddrinfo cannot be interrupted: on abort this rejects with `signal.reason` at
 * once and the lookup finishes, unobserved, in libuv's pool. For bulk resolution use `--resolver`, which
 * goes through fleetprobe's own DNS client (src/dns) instead.
 */
export const systemResolve: ResolveFn = async (name, signal) => {
  signal.throwIfAborted();
  const aborted = abortPromise(signal);
  try {
    const found = await Promise.race([lookup(name, { all: true, order: 'ipv4first' }), aborted.promise]);
    return found.map((a) => a.address);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (NOT_FOUND.has((err as { code?: string }).code ?? '')) return [];
    throw err;
  } finally {
    aborted.release();
  }
};
