import { extname } from 'node:path';
import { TargetParseError } from '../../core/errors.js';
import { YamlSource } from '../../core/yaml-source.js';
import type { Target } from '../../targets/target.js';
import type { Inventory } from '../types.js';
import { parseAnsibleIni } from './ansible-ini.js';
import type { AnsibleModel } from './ansible-model.js';
import { readAnsibleTree } from './ansible-tree.js';
import {
  freezeLabels,
  hostTarget,
  isScalar,
  labelMerger,
  parsePort,
  readInventoryFile,
  scalarLabels,
} from './inventory-file.js';
import type { AnsibleFormat, AnsibleInventorySpec } from './inventory-spec.js';

/** Host vars never turned into labels by default: connection settings and anything that looks secret. */
const SECRET_VAR = /pass|secret|token|private_key|credential|vault/i;

/** Label naming the host as the inventory knows it (its alias). */
export const INVENTORY_HOSTNAME_LABEL = 'inventory_hostname';
/** Label naming the host's most specific group (deepest direct group; `ungrouped` when it has none). */
export const ANSIBLE_GROUP_LABEL = 'ansible_group';

/**
 * An Ansible inventory file, read and parsed again on every `targets()` call. The hosts of the selected
 * groups and of all their children (transitively; no selection means `all`), in order of first appearance.
 * Each host: `ansible_host` (else the alias) is contacted, `ansible_port` is the port (unless
 * `ignorePorts`); vars apply as Ansible applies them (`all`, then groups by depth, then host vars), and
 * scalar vars become labels (stringified; not `ansible_*` nor secret-looking names unless listed in
 * `hostVars`), plus `inventory_hostname` and `ansible_group`. A bad file fails the call before any target
 * is yielded: `TargetParseError` naming `file:line` (INI) or `file:line:column` (YAML, JSON).
 */
export class AnsibleInventory implements Inventory {
  readonly name: string;
  readonly #spec: AnsibleInventorySpec;
  readonly #label: (target: Target) => Target;
  readonly #keepVar: (key: string) => boolean;

  constructor(spec: AnsibleInventorySpec) {
    this.name = spec.name;
    this.#spec = spec;
    this.#label = labelMerger(spec.labels);
    const listed = spec.hostVars ? new Set(spec.hostVars) : undefined;
    this.#keepVar = listed
      ? (key) => listed.has(key)
      : (key) => !key.startsWith('ansible_') && !SECRET_VAR.test(key);
  }

  async *targets(signal: AbortSignal): AsyncGenerator<Target, void, undefined> {
    const { file } = this.#spec;
    const text = await readInventoryFile(file, signal);
    const model = parseAnsible(text, file, this.#spec.format ?? detectFormat(file, text));
    const targets = this.#select(model);
    for (const target of targets) {
      signal.throwIfAborted();
      yield this.#label(target);
    }
  }

  /** Every target of the selection, built before the first is yielded so a bad entry fails the whole call. */
  #select(model: AnsibleModel): Target[] {
    const { file, groups: wanted, ignorePorts } = this.#spec;
    const parents = new Map<string, string[]>();
    const directGroups = new Map<string, string[]>();
    for (const [name, group] of model.groups) {
      for (const child of group.children) pushTo(parents, child, name);
      for (const host of group.hosts) pushTo(directGroups, host, name);
    }
    const depth = groupDepths(model, parents);
    const selected = selectHosts(model, wanted, file);
    // Hosts of the same groups share their group vars: merged once per distinct set of direct groups.
    const profiles = new Map<string, GroupProfile>();
    const out: Target[] = [];
    for (const [host, where] of model.hostWhere) {
      if (selected && !selected.has(host)) continue;
      const direct = directGroups.get(host) ?? [];
      const key = direct.join('\n');
      let profile = profiles.get(key);
      if (!profile) {
        profile = this.#profile(model, direct, parents, depth);
        profiles.set(key, profile);
      }
      const own = model.hostVars.get(host);
      const labels: Record<string, string> = { ...profile.labels };
      if (own) {
        // A host var replaces the group's, even with a non-scalar (which is no label); `delete` only then,
        // since it turns the object into a slow dictionary.
        for (const [k, v] of own) if (!isScalar(v) && k in labels) delete labels[k];
        scalarLabels(own, this.#keepVar, labels);
      }
      labels[INVENTORY_HOSTNAME_LABEL] = host;
      labels[ANSIBLE_GROUP_LABEL] = profile.group;
      const get = (k: string) => (own?.has(k) ? own.get(k) : profile.vars.get(k));
      const contact = (get('ansible_host') ?? get('ansible_ssh_host')) as string | undefined;
      const port = ignorePorts ? undefined : parsePort(get('ansible_port') ?? get('ansible_ssh_port'));
      out.push(hostTarget(host, contact, port, freezeLabels(labels), where));
    }
    return out;
  }

  /** The vars and labels that hosts with these direct groups get from their groups. */
  #profile(
    model: AnsibleModel,
    direct: readonly string[],
    parents: Map<string, string[]>,
    depth: Map<string, number>,
  ): GroupProfile {
    const vars = new Map<string, unknown>();
    const order = withAncestors(direct, parents).sort(
      (a, b) => (depth.get(a) ?? 1) - (depth.get(b) ?? 1) || a.localeCompare(b),
    );
    for (const g of order) for (const [k, v] of model.groups.get(g)?.vars ?? []) vars.set(k, v);
    return { vars, labels: scalarLabels(vars, this.#keepVar), group: mostSpecific(direct, depth) };
  }
}

interface GroupProfile {
  readonly vars: ReadonlyMap<string, unknown>;
  readonly labels: Readonly<Record<string, string>>;
  readonly group: string;
}

function pushTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Hosts of the wanted groups and of their children, transitively; `undefined` for all hosts. */
function selectHosts(model: AnsibleModel, wanted: readonly string[], file: string): Set<string> | undefined {
  if (wanted.length === 0 || wanted.includes('all')) return undefined;
  for (const g of wanted)
    if (!model.groups.has(g)) throw new TargetParseError(file, `no group "${g}" in the inventory`);
  const groups = new Set<string>();
  const queue = [...wanted];
  while (queue.length > 0) {
    const g = queue.pop() as string;
    if (groups.has(g)) continue;
    groups.add(g);
    queue.push(...(model.groups.get(g)?.children ?? []));
  }
  const selected = new Set<string>();
  for (const g of groups) for (const host of model.groups.get(g)?.hosts ?? []) selected.add(host);
  return selected;
}

function parseAnsible(text: string, file: string, format: AnsibleFormat): AnsibleModel {
  if (format === 'ini') return parseAnsibleIni(text, file);
  if (format === 'yaml') {
    // Duplicate keys are not checked: yaml's check is quadratic in a map's size (2,500 hosts per group).
    const source = new YamlSource(text, { uniqueKeys: false });
    const error = source.errors[0];
    if (error) throw new TargetParseError(`${file}:${error.line}:${error.column}`, error.message);
    return readAnsibleTree(source.value(), (path, opts) => at(file, source, path, opts));
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    // Positions only when needed: the YAML parser reads JSON and says where it broke.
    const error = new YamlSource(text, { uniqueKeys: false }).errors[0];
    const where = error ? `${file}:${error.line}:${error.column}` : file;
    throw new TargetParseError(where, `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  let source: YamlSource | undefined;
  return readAnsibleTree(root, (path, opts) => {
    source ??= new YamlSource(text, { uniqueKeys: false });
    return at(file, source, path, opts);
  });
}

function at(
  file: string,
  source: YamlSource,
  path: readonly (string | number)[],
  opts?: { key?: boolean },
): string {
  const { line, column } = source.locate(path, opts);
  return `${file}:${line}:${column}`;
}

/** By extension, else by the first meaningful line: `{` JSON, `key:` or `---` YAML, otherwise INI. */
export function detectFormat(file: string, text: string): AnsibleFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.yml' || ext === '.yaml') return 'yaml';
  if (ext === '.json') return 'json';
  if (ext === '.ini' || ext === '.cfg') return 'ini';
  for (const raw of text.split('\n', 200)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('{')) return 'json';
    if (line === '---' || /^[^\s=[\]]+:\s*(#.*)?$/.test(line)) return 'yaml';
    return 'ini';
  }
  return 'ini';
}

/** Depth of each group below `all` (0), by its deepest parent chain; cycles are cut. */
function groupDepths(model: AnsibleModel, parents: Map<string, string[]>): Map<string, number> {
  const depth = new Map<string, number>([['all', 0]]);
  const visiting = new Set<string>();
  const of = (g: string): number => {
    const known = depth.get(g);
    if (known !== undefined) return known;
    if (visiting.has(g)) return 1;
    visiting.add(g);
    const ps = (parents.get(g) ?? []).filter((p) => p !== 'all');
    const d = ps.length === 0 ? 1 : 1 + Math.max(...ps.map(of));
    visiting.delete(g);
    depth.set(g, d);
    return d;
  };
  for (const g of model.groups.keys()) of(g);
  return depth;
}

/** `all`, the host's direct groups, and every ancestor of them. */
function withAncestors(direct: readonly string[], parents: Map<string, string[]>): string[] {
  const seen = new Set<string>(['all']);
  const queue = [...direct];
  while (queue.length > 0) {
    const g = queue.pop() as string;
    if (seen.has(g)) continue;
    seen.add(g);
    queue.push(...(parents.get(g) ?? []));
  }
  return [...seen];
}

function mostSpecific(direct: readonly string[], depth: Map<string, number>): string {
  let best: string | undefined;
  for (const g of direct) {
    if (g === 'all' || g === 'ungrouped') continue;
    const d = depth.get(g) ?? 1;
    const bd = best === undefined ? -1 : (depth.get(best) ?? 1);
    if (d > bd || (d === bd && best !== undefined && g < best)) best = g;
  }
  return best ?? 'ungrouped';
}
