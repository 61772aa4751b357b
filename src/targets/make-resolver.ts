import { getSharedDnsClient, parseDnsServer, resolveHost } from '../dns/index.js';
import { type ResolveFn, systemResolve } from './system-resolver.js';

/**
 * Name resolution for hostname targets and `--resolve`: with `--resolver`, our own DNS client (many queries
 * in flight, A and AAAA at once); without, the system resolver (which also honours /etc/hosts).
 */
export function makeResolver(resolver?: string): ResolveFn {
  if (resolver === undefined) return systemResolve;
  return resolveHost(getSharedDnsClient(), parseDnsServer(resolver));
}
