import { UsageError } from '../../core/errors.js';
import type { MonitorSpec } from '../../model/monitor-spec.js';
import { EMPTY_LABELS } from '../../targets/labels.js';
import type { ResolveFn } from '../../targets/system-resolver.js';
import type { Inventory } from '../types.js';
import { AnsibleInventory } from './ansible-inventory.js';
import type { InventorySpec } from './inventory-spec.js';
import { SshConfigInventory } from './ssh-config-inventory.js';
import { OpenTargetsInventory } from './targets-inventory.js';

export { ANSIBLE_GROUP_LABEL, AnsibleInventory, INVENTORY_HOSTNAME_LABEL } from './ansible-inventory.js';
export { MAX_INVENTORY_FILE_BYTES } from './inventory-file.js';
export * from './inventory-spec.js';
export { SSH_HOST_LABEL, SshConfigInventory } from './ssh-config-inventory.js';
export { OpenTargetsInventory } from './targets-inventory.js';

export interface InventoryDeps {
  /**
   * The resolver for a `dns:` inventory: `server` is its `resolver:` (`ip[:port]`), absent for the system
   * resolver. The CLI passes `makeResolver` (src/targets/make-resolver.ts), the same as `run --resolver`.
   */
  readonly resolverFor: (server: string | undefined) => ResolveFn;
}

/** The `Inventory` for one validated spec. Nothing is read until `targets()` is called. */
export function createInventory(spec: InventorySpec, deps: InventoryDeps): Inventory {
  switch (spec.kind) {
    case 'targets':
      return new OpenTargetsInventory({
        name: spec.name,
        specs: spec.targets,
        files: spec.files,
        labels: spec.labels,
      });
    case 'dns':
      return new OpenTargetsInventory({
        name: spec.name,
        resolveNames: spec.names,
        resolve: deps.resolverFor(spec.resolver),
        labels: spec.labels,
      });
    case 'ansible':
      return new AnsibleInventory(spec);
    case 'sshConfig':
      return new SshConfigInventory(spec);
    default:
      return spec satisfies never;
  }
}

/**
 * A monitor's inventory: the named one from `inventories` (config validation guarantees it exists), or its
 * inline `targets:` (named `inline`).
 */
export function inventoryOf(
  monitor: Pick<MonitorSpec, 'inventory'>,
  inventories: ReadonlyMap<string, InventorySpec>,
  deps: InventoryDeps,
): Inventory {
  const { inventory } = monitor;
  if (typeof inventory !== 'string')
    return new OpenTargetsInventory({ name: 'inline', specs: inventory.targets, labels: EMPTY_LABELS });
  const spec = inventories.get(inventory);
  if (!spec) throw new UsageError(`no inventory "${inventory}"`);
  return createInventory(spec, deps);
}
