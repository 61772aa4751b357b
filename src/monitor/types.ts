import type { Target } from '../targets/target.js';

/**
 * Where a monitor's targets come from. Re-read at the start of every round, so a changing fleet is
 * followed. Implementations: address/CIDR/file specs, DNS names through a resolver, Ansible inventories,
 * ssh_config host lists (src/monitor/inventories/).
 */
export interface Inventory {
  /** The inventory's name in the config file (`inventories:` key), or `inline` for a monitor's own list. */
  readonly name: string;
  /** Streams the current targets; aborting rejects with the signal's reason and closes any open file. */
  targets(signal: AbortSignal): AsyncIterable<Target>;
}
