import { TargetParseError } from '../../core/errors.js';
import { expandHostPattern } from './ansible-ini.js';
import { AnsibleModel } from './ansible-model.js';
import type { Where } from './inventory-file.js';

type Path = readonly (string | number)[];
/** Names a place in the document for errors: `file:line:column`. */
export type Locate = (path: Path, opts?: { key?: boolean }) => string;

const GROUP_KEYS = new Set(['hosts', 'vars', 'children']);

/**
 * Reads the tree of a YAML inventory (`all: {hosts: {h: {vars}}, vars: {}, children: {g: {...}}}`) or of
 * `ansible-inventory --list` JSON (`{"_meta": {"hostvars": {...}}, "g": {"hosts": [...], "children": [...]}}`):
 * `hosts` and `children` may be maps or lists, a group may be a bare list of hosts. Host patterns and
 * `name:port` expand as in INI. Errors are `TargetParseError(locate(path), reason)`.
 */
export function readAnsibleTree(root: unknown, locate: Locate): AnsibleModel {
  const model = new AnsibleModel();
  if (root === null || root === undefined) return model;
  if (!isObject(root)) throw new TargetParseError(locate([]), 'expected a map of groups');
  for (const [name, body] of Object.entries(root)) {
    if (name === '_meta') readMeta(model, body, locate);
    else readGroup(model, name, body, [name], locate);
  }
  return model;
}

function readMeta(model: AnsibleModel, meta: unknown, locate: Locate): void {
  const hostvars = isObject(meta) ? meta.hostvars : undefined;
  if (hostvars === undefined) return;
  if (!isObject(hostvars))
    throw new TargetParseError(locate(['_meta', 'hostvars']), 'expected a map of hosts');
  for (const [host, vars] of Object.entries(hostvars)) {
    readVars(vars, ['_meta', 'hostvars', host], locate, (k, v, where) => model.setHostVar(host, k, v, where));
  }
}

function readGroup(model: AnsibleModel, name: string, body: unknown, path: Path, locate: Locate): void {
  const group = model.group(name);
  if (body === null || body === undefined) return;
  if (Array.isArray(body)) {
    readHostList(model, name, body, path, locate);
    return;
  }
  if (!isObject(body))
    throw new TargetParseError(locate(path), `group "${name}": expected hosts, vars or children`);
  for (const [key, value] of Object.entries(body)) {
    if (!GROUP_KEYS.has(key))
      throw new TargetParseError(
        locate([...path, key], { key: true }),
        `group "${name}": unknown key "${key}" (expected hosts, vars or children)`,
      );
    if (value === null || value === undefined) continue;
    const at = [...path, key];
    if (key === 'vars') {
      readVars(value, at, locate, (k, v, where) => model.setGroupVar(name, k, v, where));
    } else if (key === 'hosts') {
      if (Array.isArray(value)) readHostList(model, name, value, at, locate);
      else if (isObject(value)) {
        for (const [pattern, vars] of Object.entries(value)) {
          const hostPath = [...at, pattern];
          const where = () => locate(hostPath);
          const { hosts, port } = expandHostPattern(pattern, where);
          for (const host of hosts) {
            model.addHost(name, host, where);
            if (port !== undefined) model.setHostVar(host, 'ansible_port', port, where);
            readVars(vars, hostPath, locate, (k, v, w) => model.setHostVar(host, k, v, w));
          }
        }
      } else throw new TargetParseError(locate(at), `group "${name}": hosts must be a map or a list`);
    } else {
      const children = Array.isArray(value)
        ? value.map((c) => [c, null] as const)
        : isObject(value)
          ? Object.entries(value)
          : undefined;
      if (!children)
        throw new TargetParseError(locate(at), `group "${name}": children must be a map or a list`);
      children.forEach(([child, childBody], i) => {
        const childPath = Array.isArray(value) ? [...at, i] : [...at, String(child)];
        if (typeof child !== 'string')
          throw new TargetParseError(locate(childPath), 'a child group must be a name');
        if (child === name)
          throw new TargetParseError(locate(childPath), `group "${name}" cannot be its own child`);
        group.children.add(child);
        readGroup(model, child, childBody, childPath, locate);
      });
    }
  }
}

function readHostList(
  model: AnsibleModel,
  group: string,
  hosts: unknown[],
  path: Path,
  locate: Locate,
): void {
  hosts.forEach((pattern, i) => {
    const where = () => locate([...path, i]);
    if (typeof pattern !== 'string') throw new TargetParseError(where(), 'a host must be a name');
    const { hosts: names, port } = expandHostPattern(pattern, where);
    for (const host of names) {
      model.addHost(group, host, where);
      if (port !== undefined) model.setHostVar(host, 'ansible_port', port, where);
    }
  });
}

function readVars(
  vars: unknown,
  path: Path,
  locate: Locate,
  set: (key: string, value: unknown, where: Where) => void,
): void {
  if (vars === null || vars === undefined) return;
  if (!isObject(vars)) throw new TargetParseError(locate(path), 'vars must be a map');
  for (const [key, value] of Object.entries(vars)) {
    set(key, value, () => locate([...path, key]));
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
