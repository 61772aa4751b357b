import { FleetprobeError, UsageError } from '../core/errors.js';

/** A `server` spec (`IP`, `IP:PORT`, `[v6]:PORT`) that cannot be parsed. Usage error: exit status 2. */
export class DnsServerSpecError extends UsageError {
  readonly spec: string;
  constructor(spec: string, reason: string) {
    super(`bad DNS server "${spec}": ${reason} (expected IP, IP:PORT or [IPv6]:PORT)`);
    this.spec = spec;
  }
}

/** A query name or type the client cannot put on the wire. */
export class DnsQueryError extends FleetprobeError {
  constructor(message: string) {
    super('FP_DNS_BAD_QUERY', message);
  }
}

/**
 * The server did not answer: every attempt (the first plus `retries`) timed out before the caller's
 * signal fired. `attempts` says how many were sent.
 */
export class DnsNoReplyError extends FleetprobeError {
  readonly attempts: number;
  readonly server: string;
  constructor(server: string, attempts: number) {
    super('FP_DNS_NO_REPLY', `no reply from ${server} after ${attempts} attempt${attempts === 1 ? '' : 's'}`);
    this.attempts = attempts;
    this.server = server;
  }
}

/** The TCP fallback (after a truncated UDP reply) failed: refused, reset, closed early or garbage. */
export class DnsTcpError extends FleetprobeError {
  readonly server: string;
  constructor(server: string, message: string, options?: { cause?: unknown }) {
    super('FP_DNS_TCP', `TCP to ${server}: ${message}`, options);
    this.server = server;
  }
}

/** The client was closed while the query was queued or in flight. */
export class DnsClientClosedError extends FleetprobeError {
  constructor() {
    super('FP_DNS_CLIENT_CLOSED', 'DNS client closed');
  }
}
