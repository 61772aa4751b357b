import net from 'node:net';
import { FleetprobeError } from '../core/errors.js';
import type { DnsClient } from './client.js';
import type { DnsServer } from './server-spec.js';

/**
 * A hostname resolver for targets given by name and for `--resolve`: asks `server` for the A and the AAAA
 * records of `name` (both at once), and returns the addresses (IPv4 first; empty when the name has none,
 * including NXDOMAIN). An IP literal is returned as is. Throws the client's errors (no reply, TCP failure)
 * or the signal's reason, and `DnsResolveError` for SERVFAIL/REFUSED and other failure rcodes.
 */
export function resolveHost(
  client: DnsClient,
  server: DnsServer,
): (name: string, signal: AbortSignal) => Promise<string[]> {
  return async (name, signal) => {
    if (net.isIP(name)) return [name];
    // Both questions at once; Promise.all observes both, so the second failure is never unhandled.
    const replies = await Promise.all(
      (['A', 'AAAA'] as const).map((type) => client.query({ name, type, server, signal })),
    );
    const out: string[] = [];
    for (const [k, type] of (['A', 'AAAA'] as const).entries()) {
      const res = replies[k]!;
      if (res.rcode === 'NXDOMAIN') return [];
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
