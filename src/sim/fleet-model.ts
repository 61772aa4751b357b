/**
 * The contract between the simulator's parts: which fault each simulated host has, per protocol.
 * `src/sim/fleet.ts` builds a `FleetModel` from --hosts/--base/--seed/--profile; each protocol server
 * (http/https/tcp, dns, ssh) looks a connection's local address up with `hostAt()` and behaves as told.
 */
export const HTTP_FAULTS = [
  'healthy',
  'slow',
  'tarpit',
  'reset',
  'refused',
  'garbage',
  'http5xx',
  'wrong-body',
  'endless-body',
  'drip-body',
] as const;
export const TLS_FAULTS = ['healthy', 'expired-cert', 'wrong-name-cert'] as const;
export const TCP_FAULTS = ['healthy', 'tarpit', 'reset', 'refused'] as const;
export const DNS_FAULTS = [
  'healthy',
  'nxdomain',
  'servfail',
  'no-reply',
  'truncated',
  'wrong-address',
] as const;
export const SSH_FAULTS = [
  'healthy',
  'wrong-host-key',
  'auth-refused',
  'hang-before-auth',
  'hang-after-auth',
  'nonzero-exit',
  'huge-output',
] as const;

export type HttpFault = (typeof HTTP_FAULTS)[number];
export type TlsFault = (typeof TLS_FAULTS)[number];
export type TcpFault = (typeof TCP_FAULTS)[number];
export type DnsFault = (typeof DNS_FAULTS)[number];
export type SshFault = (typeof SSH_FAULTS)[number];

export interface SimHost {
  /** 0-based index: host i is `base + i`, named `h<i>.<zone>`. */
  readonly index: number;
  readonly address: string;
  readonly name: string;
  readonly http: HttpFault;
  readonly tls: TlsFault;
  readonly tcp: TcpFault;
  readonly dns: DnsFault;
  readonly ssh: SshFault;
  /** Extra latency in ms for `slow` hosts (0 otherwise), drawn from the profile's distribution. */
  readonly latencyMs: number;
}

export interface FleetModel {
  readonly size: number;
  readonly base: string;
  readonly zone: string;
  readonly seed: number;
  /** The host served at this local IPv4 address, or undefined when outside the fleet. */
  hostAt(address: string): SimHost | undefined;
  /** Host by index (0..size-1), computed on demand: the model never materialises N objects. */
  host(index: number): SimHost;
}
