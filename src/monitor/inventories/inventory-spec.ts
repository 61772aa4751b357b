/**
 * Validated inventory definitions, as the config file's `inventories:` section gives them (paths already
 * absolute). Pure data: `createInventory()` turns one into an `Inventory` that reads its source per round.
 */
export type InventorySpec =
  | TargetsInventorySpec
  | DnsInventorySpec
  | AnsibleInventorySpec
  | SshConfigInventorySpec;

export const INVENTORY_KINDS = ['targets', 'dns', 'ansible', 'sshConfig'] as const;
export type InventoryKind = (typeof INVENTORY_KINDS)[number];

interface CommonInventorySpec {
  readonly name: string;
  /** Added to every target of the inventory; a target's own label of the same key wins. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Everything `fleetprobe run` accepts: target specs (addresses, names, CIDR blocks) and targets files. */
export interface TargetsInventorySpec extends CommonInventorySpec {
  readonly kind: 'targets';
  readonly targets: readonly string[];
  /** Targets files (`.txt`, `.csv`, `.jsonl`), absolute paths. */
  readonly files: readonly string[];
}

/** `--resolve` semantics: every A and AAAA record of each name is a target named after it. */
export interface DnsInventorySpec extends CommonInventorySpec {
  readonly kind: 'dns';
  readonly names: readonly string[];
  /** `ip[:port]` of the DNS server to ask (`--resolver`); absent: the system resolver. */
  readonly resolver?: string;
}

export const ANSIBLE_FORMATS = ['ini', 'yaml', 'json'] as const;
export type AnsibleFormat = (typeof ANSIBLE_FORMATS)[number];

/** An Ansible inventory file: INI, YAML, or the JSON of `ansible-inventory --list`. */
export interface AnsibleInventorySpec extends CommonInventorySpec {
  readonly kind: 'ansible';
  readonly file: string;
  /** Absent: by the file's extension (`.yml`/`.yaml`, `.json`), else by its first line. */
  readonly format?: AnsibleFormat;
  /** Hosts of these groups and of their children, transitively. Empty: every host (`all`). */
  readonly groups: readonly string[];
  /** Only these host vars become labels. Absent: every scalar var except `ansible_*` and secret-looking names. */
  readonly hostVars?: readonly string[];
  /** Drop `ansible_port`, so the check's own `port` argument applies (an http monitor over SSH hosts). */
  readonly ignorePorts: boolean;
}

/** An ssh_config-style file: each concrete `Host` alias is a target (`HostName`, `Port` as ssh applies them). */
export interface SshConfigInventorySpec extends CommonInventorySpec {
  readonly kind: 'sshConfig';
  readonly file: string;
  /** Drop `Port`, so the check's own `port` argument applies. */
  readonly ignorePorts: boolean;
}
