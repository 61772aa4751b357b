import { TargetParseError } from '../../core/errors.js';
import type { Target } from '../../targets/target.js';
import type { Inventory } from '../types.js';
import { freezeLabels, hostTarget, labelMerger, parsePort, readInventoryFile } from './inventory-file.js';
import type { SshConfigInventorySpec } from './inventory-spec.js';

/** Label naming the host by its `Host` alias. */
export const SSH_HOST_LABEL = 'ssh_host';

interface Block {
  /** `Host` patterns (lower-case); `undefined` for options before the first `Host` (they apply to all). */
  readonly patterns: readonly string[] | undefined;
  readonly line: number;
  hostName?: { value: string; line: number };
  port?: { value: number; line: number };
}

/**
 * An ssh_config-style file, read again on every `targets()` call. Every concrete alias of a `Host` line (no
 * `*`, `?` or `!`) is a target, in order of first appearance; its `HostName` (`%h` is the alias) and `Port`
 * are taken as ssh takes them: from the first block that matches the alias and sets them, wildcard
 * blocks and options before the first `Host` included. `Match` blocks and `Include` are not followed (their
 * options are ignored). Each target has the label `ssh_host=<alias>`. A bad `Port` or `HostName` throws
 * `TargetParseError('<file>:<line>')`.
 */
export class SshConfigInventory implements Inventory {
  readonly name: string;
  readonly #spec: SshConfigInventorySpec;
  readonly #label: (target: Target) => Target;

  constructor(spec: SshConfigInventorySpec) {
    this.name = spec.name;
    this.#spec = spec;
    this.#label = labelMerger(spec.labels);
  }

  async *targets(signal: AbortSignal): AsyncGenerator<Target, void, undefined> {
    const { file, ignorePorts } = this.#spec;
    const blocks = parseSshConfig(await readInventoryFile(file, signal), file);
    const aliases = new Map<string, number>();
    for (const block of blocks)
      for (const p of block.patterns ?? [])
        if (!/[*?!]/.test(p) && !aliases.has(p)) aliases.set(p, block.line);
    const targets: Target[] = [];
    for (const [alias, line] of aliases) {
      let hostName: Block['hostName'];
      let port: Block['port'];
      for (const block of blocks) {
        if (block.patterns !== undefined && !matchesHost(block.patterns, alias)) continue;
        hostName ??= block.hostName;
        port ??= block.port;
      }
      const contact = hostName?.value.replace(/%(.)/g, (m, c: string) =>
        c === 'h' ? alias : c === '%' ? '%' : m,
      );
      const labels = freezeLabels({ [SSH_HOST_LABEL]: alias });
      const where = `${file}:${hostName?.line ?? line}`;
      targets.push(hostTarget(alias, contact, ignorePorts ? undefined : port?.value, labels, where));
    }
    for (const target of targets) {
      signal.throwIfAborted();
      yield this.#label(target);
    }
  }
}

function parseSshConfig(text: string, file: string): Block[] {
  const blocks: Block[] = [{ patterns: undefined, line: 0 }];
  let current: Block | undefined = blocks[0];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    const where = `${file}:${i + 1}`;
    if (!m) throw new TargetParseError(where, `expected "Keyword value", got "${line}"`);
    const keyword = (m[1] as string).toLowerCase();
    const args = words(m[2] as string);
    if (keyword === 'host') {
      if (args.length === 0) throw new TargetParseError(where, 'Host needs at least one pattern');
      current = { patterns: args.map((a) => a.toLowerCase()), line: i + 1 };
      blocks.push(current);
    } else if (keyword === 'match') {
      current = undefined; // not evaluated: its options must not leak into the block before it
    } else if (current && keyword === 'hostname' && current.hostName === undefined) {
      current.hostName = { value: args[0] ?? '', line: i + 1 };
    } else if (current && keyword === 'port' && current.port === undefined) {
      const port = parsePort(args[0]);
      if (port === undefined)
        throw new TargetParseError(where, `Port "${args[0] ?? ''}" is not a port (1..65535)`);
      current.port = { value: port, line: i + 1 };
    }
  }
  return blocks;
}

/** ssh's pattern lists: some positive pattern matches and no negated one does. */
function matchesHost(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (glob(p.slice(1), host)) return false;
    } else if (glob(p, host)) matched = true;
  }
  return matched;
}

/** `*` and `?` wildcards; iterative with one backtrack point, so linear-ish and never exponential. */
function glob(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Splits on blanks; double quotes group words. */
function words(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}
