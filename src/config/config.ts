import type { InventorySpec } from '../monitor/inventories/inventory-spec.js';
import type { MonitorSpec } from '../monitor/types.js';
import type { CredentialGroup, Credentials } from '../server/credentials.js';
import type { ProbeModulesConfig } from '../server/probe/probe-modules.js';

/**
 * The groups of `credentials:` (the server's named files, as `--ssh-identity` & co. give them). Only
 * validated here (names, paths); whoever uses a credential checks and reads its file.
 */
export const CREDENTIAL_GROUPS = [
  'sshIdentities',
  'knownHosts',
  'caBundles',
  'checkModules',
] as const satisfies readonly CredentialGroup[];

export type { Credentials };

/** A validated `fleetprobe.yaml`, frozen. Relative paths in the file are resolved against its directory. */
export interface FleetprobeConfig {
  /** The file as named when loaded (errors use it). */
  readonly file: string;
  /** In file order; `source: 'config'`. */
  readonly monitors: readonly MonitorSpec[];
  readonly inventories: ReadonlyMap<string, InventorySpec>;
  readonly credentials: Credentials;
  /** `GET /probe` modules by name (fixed at server start; `--probe-module` flags override by name). */
  readonly probeModules: ProbeModulesConfig;
}
