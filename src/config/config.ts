import type { InventorySpec } from '../monitor/inventories/inventory-spec.js';
import type { MonitorSpec } from '../monitor/types.js';

/** Kinds of named server-side files (`credentials:`); API callers refer to them by name, never by path. */
export const CREDENTIAL_KINDS = ['sshIdentities', 'knownHosts', 'caBundles', 'checkModules'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/** Name -> absolute path, per kind. Only validated here (names, paths); the files are read by their users. */
export type Credentials = { readonly [K in CredentialKind]: Readonly<Record<string, string>> };

/** A validated `fleetprobe.yaml`, frozen. Relative paths in the file are resolved against its directory. */
export interface FleetprobeConfig {
  /** The file as named when loaded (errors use it). */
  readonly file: string;
  /** In file order; `source: 'config'`. */
  readonly monitors: readonly MonitorSpec[];
  readonly inventories: ReadonlyMap<string, InventorySpec>;
  readonly credentials: Credentials;
}
