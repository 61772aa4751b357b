import net from 'node:net';
import { FleetprobeError } from '../core/errors.js';
import type { DnsClient } from './client.js';
import type { DnsServer } from './server-spec.js';

/**
 * A hostname resolver for targets given by name and for `--resolve`: asks `server` for the A records,
 * then the AAAA records, of `name`, and returns the addresses (IPv4 first; empty when the name has none,
 * including NXDOMAIN). An IP literal is returned as is. Throws the client's errors (no reply, TCP failure)
 * or the signal's reason, and `DnsResolveError` for SERVFAIL/REFUSED and other failure rcodes.
 */
export function resolveHost(
  client: DnsClient,
  server: DnsServer,
): (name: string, signal: AbortSignal) => Promise<string[]> {
  return async (name, signal) => {
    if (net.isIP(name)) return [name];
    const out: string[] = [];
    for (const type of ['A', 'AAAA'] as const) {
      const res = await client.query({ name, type, server, signal });
      if (res.rcode === 'NXDOMAIN') return out;
      if (res.rcode !== 'NOERROR') throw new DnsResolveError(name, type, res.rcode);
      for (const a of res.answers) if (a.type === type) out.push(a.data);
    }
    return out;
  };
}

/** The resolver answered with a failure rcode (SERVFAIL, REFUSED...) for a hostname lookup. */
export class DnsResolveError extends FleetprobeError {
  readonly rcode: string;
  constructor(name: string, type: string, rcode: string) {
    super('FP_DNS_RESOLVE', `${type} ${name}: ${rcode}`);
    this.rcode = rcode;
  }
}
