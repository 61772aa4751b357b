/** One host to test. `address` is an IPv4/IPv6 literal; it is absent for a name not (yet) resolved. */
export interface Target {
  readonly address?: string;
  /** Hostname, when the target was given or found by name. */
  readonly name?: string;
  readonly port?: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** The display form of a target: its address, else its name. */
export function targetKey(target: Target): string {
  return target.address ?? target.name ?? '?';
}
