import { TargetParseError } from '../../core/errors.js';
import { parsePort, type Where, whereText } from './inventory-file.js';

/** One Ansible group: its direct hosts, its vars and its child groups. */
export interface AnsibleGroup {
  readonly hosts: Set<string>;
  readonly vars: Map<string, unknown>;
  readonly children: Set<string>;
}

/**
 * An Ansible inventory as the three file formats describe it: groups (`all` always exists), host vars, and
 * where each host was first seen (for errors). The parsers fill it; `AnsibleInventory` selects from it.
 * `ansible_port` values are checked where they are defined, so a bad one names its own line.
 */
export class AnsibleModel {
  readonly groups = new Map<string, AnsibleGroup>();
  readonly hostVars = new Map<string, Map<string, unknown>>();
  /** Host -> `file:line` of its first appearance, in order of appearance. */
  readonly hostWhere = new Map<string, Where>();

  constructor() {
    this.group('all');
  }

  group(name: string): AnsibleGroup {
    let g = this.groups.get(name);
    if (!g) {
      g = { hosts: new Set(), vars: new Map(), children: new Set() };
      this.groups.set(name, g);
    }
    return g;
  }

  addHost(group: string, host: string, where: Where): void {
    this.group(group).hosts.add(host);
    if (!this.hostWhere.has(host)) this.hostWhere.set(host, where);
  }

  setHostVar(host: string, key: string, value: unknown, where: Where): void {
    checkVar(key, value, where);
    let vars = this.hostVars.get(host);
    if (!vars) {
      vars = new Map();
      this.hostVars.set(host, vars);
    }
    vars.set(key, value);
  }

  setGroupVar(group: string, key: string, value: unknown, where: Where): void {
    checkVar(key, value, where);
    this.group(group).vars.set(key, value);
  }
}

/** The vars fleetprobe reads itself are checked where they are written. */
function checkVar(key: string, value: unknown, where: Where): void {
  if ((key === 'ansible_port' || key === 'ansible_ssh_port') && parsePort(value) === undefined)
    throw new TargetParseError(whereText(where), `${key}: ${JSON.stringify(value)} is not a port (1..65535)`);
  if ((key === 'ansible_host' || key === 'ansible_ssh_host') && typeof value !== 'string')
    throw new TargetParseError(
      whereText(where),
      `${key}: ${JSON.stringify(value)} is not an address or hostname`,
    );
}
