import type { FleetModel, SimHost, SshFault } from '../../src/sim/fleet-model.js';

/**
 * A hand-made fleet for SSH tests: host i is `127.31.0.<i+1>` with `faults[i]` (the rest healthy), so each
 * test names the fault it exercises without depending on a profile's mix.
 */
export function tinyFleet(faults: readonly SshFault[], seed = 7): FleetModel {
  const base = [127, 31, 0, 1];
  const host = (index: number): SimHost => ({
    index,
    address: `${base[0]}.${base[1]}.${base[2]}.${base[3]! + index}`,
    name: `h${index}.ssh.test`,
    http: 'healthy',
    tls: 'healthy',
    tcp: 'healthy',
    dns: 'healthy',
    ssh: faults[index] ?? 'healthy',
    latencyMs: 0,
  });
  return {
    size: faults.length,
    base: '127.31.0.1',
    zone: 'ssh.test',
    seed,
    host,
    hostAt(address: string) {
      const m = /^127\.31\.0\.(\d+)$/.exec(address);
      if (!m) return undefined;
      const i = Number(m[1]) - 1;
      return i >= 0 && i < faults.length ? host(i) : undefined;
    },
  };
}
