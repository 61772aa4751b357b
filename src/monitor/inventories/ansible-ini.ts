import { TargetParseError } from '../../core/errors.js';
import { AnsibleModel } from './ansible-model.js';
import { parsePort, type Where, whereText } from './inventory-file.js';

/** Most hosts one pattern such as `web[0001:9999].example` may expand to. */
const MAX_RANGE_HOSTS = 1_000_000;

/**
 * Parses an Ansible INI inventory: host lines (`name [key=value ...]`, `name:port`, ranges
 * `web[01:20].example`, `db-[a:f]`), `[group]`, `[group:vars]` (`key=value` lines) and `[group:children]`.
 * Hosts before the first section are `ungrouped`. `#` and `;` start comment lines; `#` a trailing comment.
 * Values keep their text (quotes removed). Errors are `TargetParseError('<file>:<line>', reason)`.
 */
export function parseAnsibleIni(text: string, file: string): AnsibleModel {
  const model = new AnsibleModel();
  let group = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const where = `${file}:${i + 1}`;
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const m = /^\[([^\]:\s]+)(?::([a-z]+))?\]\s*(?:[#;].*)?$/.exec(line);
      if (!m)
        throw new TargetParseError(
          where,
          `bad section header "${line}" (expected [group], [group:vars] or [group:children])`,
        );
      const suffix = m[2];
      if (suffix !== undefined && suffix !== 'vars' && suffix !== 'children')
        throw new TargetParseError(where, `unknown section kind ":${suffix}" (expected :vars or :children)`);
      group = m[1] as string;
      kind = suffix ?? 'hosts';
      model.group(group);
      continue;
    }
    if (kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq <= 0) throw new TargetParseError(where, `expected key=value in [${group}:vars], got "${line}"`);
      const key = line.slice(0, eq).trim();
      model.setGroupVar(group, key, unquote(line.slice(eq + 1).trim()), where);
    } else if (kind === 'children') {
      const child = tokenize(line, where)[0] as string;
      if (child === group) throw new TargetParseError(where, `group "${group}" cannot be its own child`);
      model.group(child);
      model.group(group).children.add(child);
    } else {
      const [pattern, ...pairs] = tokenize(line, where);
      const vars: [string, string][] = pairs.map((pair) => {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new TargetParseError(where, `expected key=value after the host, got "${pair}"`);
        return [pair.slice(0, eq), pair.slice(eq + 1)];
      });
      const { hosts, port } = expandHostPattern(pattern as string, where);
      for (const host of hosts) {
        model.addHost(group, host, where);
        if (port !== undefined) model.setHostVar(host, 'ansible_port', port, where);
        for (const [key, value] of vars) model.setHostVar(host, key, value, where);
      }
    }
  }
  return model;
}

/**
 * Expands a host pattern as Ansible does: `[01:10]` (zero-padded like its start), `[a:f]`, an optional
 * `:stride`, several ranges multiply; a trailing `:port` (one colon, outside brackets) is split off.
 */
export function expandHostPattern(pattern: string, where: Where): { hosts: string[]; port?: number } {
  let text = pattern;
  let port: number | undefined;
  const masked = text.replace(/\[[^\]]*\]/g, (s) => '_'.repeat(s.length));
  const at = masked.indexOf(':');
  if (at !== -1 && at === masked.lastIndexOf(':')) {
    port = parsePort(text.slice(at + 1));
    if (port === undefined) throw new TargetParseError(whereText(where), `bad port in host "${pattern}"`);
    text = text.slice(0, at);
  }
  let hosts = [''];
  let rest = text;
  for (;;) {
    const m = /\[([0-9]+|[a-zA-Z]):([0-9]+|[a-zA-Z])(?::([0-9]+))?\]/.exec(rest);
    if (!m) break;
    const values = rangeValues(m[1] as string, m[2] as string, m[3], pattern, where);
    const head = rest.slice(0, m.index);
    if (hosts.length * values.length > MAX_RANGE_HOSTS)
      throw new TargetParseError(
        whereText(where),
        `host pattern "${pattern}" expands to more than ${MAX_RANGE_HOSTS} hosts`,
      );
    hosts = hosts.flatMap((h) => values.map((v) => h + head + v));
    rest = rest.slice(m.index + m[0].length);
  }
  if (rest.includes('[') || rest.includes(']'))
    throw new TargetParseError(whereText(where), `bad range in host "${pattern}"`);
  return { hosts: hosts.map((h) => h + rest), port };
}

function rangeValues(
  start: string,
  end: string,
  strideText: string | undefined,
  pattern: string,
  where: Where,
): string[] {
  const stride = strideText === undefined ? 1 : Number(strideText);
  const numeric = /^\d+$/.test(start);
  if (numeric !== /^\d+$/.test(end) || stride < 1)
    throw new TargetParseError(whereText(where), `bad range in host "${pattern}"`);
  const from = numeric ? Number(start) : start.charCodeAt(0);
  const to = numeric ? Number(end) : end.charCodeAt(0);
  if (to < from) throw new TargetParseError(whereText(where), `range end before start in host "${pattern}"`);
  if ((to - from) / stride + 1 > MAX_RANGE_HOSTS)
    throw new TargetParseError(
      whereText(where),
      `host pattern "${pattern}" expands to more than ${MAX_RANGE_HOSTS} hosts`,
    );
  const width = numeric && start.startsWith('0') ? start.length : 0;
  const out: string[] = [];
  for (let v = from; v <= to; v += stride)
    out.push(numeric ? String(v).padStart(width, '0') : String.fromCharCode(v));
  return out;
}

/** Splits a line on blanks, keeping quoted parts together (quotes removed); a token starting `#` ends it. */
function tokenize(line: string, where: string): string[] {
  const tokens: string[] = [];
  let token = '';
  let inToken = false;
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote !== '') {
      if (c === quote) quote = '';
      else token += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inToken = true;
    } else if (c === ' ' || c === '\t') {
      if (inToken) tokens.push(token);
      token = '';
      inToken = false;
    } else if (c === '#' && !inToken) {
      break;
    } else {
      token += c;
      inToken = true;
    }
  }
  if (quote !== '') throw new TargetParseError(where, `unterminated ${quote} quote`);
  if (inToken) tokens.push(token);
  return tokens;
}

function unquote(value: string): string {
  const q = value[0];
  return (q === '"' || q === "'") && value.length >= 2 && value.endsWith(q) ? value.slice(1, -1) : value;
}
