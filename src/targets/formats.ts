import { BadEntry } from './bad-entry.js';
import { addLabel, EMPTY_LABELS, freezeLabels, isLabelKey, parseLabelList } from './labels.js';
import {
  canonicalHostname,
  isHostname,
  NO_FIELDS,
  type ParsedSpec,
  parsePort,
  parseSpecText,
} from './spec.js';

/** Formats of a targets file. */
export const TARGET_FILE_FORMATS = ['txt', 'csv', 'jsonl'] as const;
export type TargetFileFormat = (typeof TARGET_FILE_FORMATS)[number];

/** The format of a targets file by its name: `.csv`, `.jsonl`/`.ndjson`, anything else is text. */
export function formatOfPath(path: string): TargetFileFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return 'txt';
}

/**
 * Parses one line of a targets file; `undefined` for a line with no target (blank, comment, CSV header).
 * Throws `BadEntry` with the reason; the caller adds `file:line`. Stateful for CSV (the header row).
 */
export type LineParser = (line: string) => ParsedSpec | undefined;

/** A parser for one file (create one per pass over the file). */
export function createLineParser(format: TargetFileFormat): LineParser {
  switch (format) {
    case 'txt':
      return parseTxtLine;
    case 'csv':
      return createCsvParser();
    case 'jsonl':
      return parseJsonLine;
    default:
      return format satisfies never;
  }
}

const WHITESPACE = /[ \t]+/;

/**
 * Text: `<spec> [key=value ...] [# comment]`; blank lines and lines starting with `#` are skipped.
 * Labels apply to every target of the spec (all addresses of a block share one frozen labels object).
 */
export function parseTxtLine(line: string): ParsedSpec | undefined {
  const text = line.trim();
  if (text === '' || text.charCodeAt(0) === 35 /* # */) return undefined;
  let space = 1;
  while (space < text.length && text.charCodeAt(space) !== 32 && text.charCodeAt(space) !== 9) space++;
  if (space === text.length) return parseSpecText(text, NO_FIELDS);
  const tokens = text.slice(space).trim().split(WHITESPACE);
  const labels: Record<string, string> = {};
  for (const token of tokens) {
    if (token.charCodeAt(0) === 35) break;
    addLabel(labels, token);
  }
  return parseSpecText(text.slice(0, space), { labels: freezeLabels(labels) });
}

/**
 * The name of a text line that is a hostname alone (no spaces, port or labels), lowercased; else undefined.
 * Such a line, the whole line of a bulk DNS run's file, is the target `{name, labels: {}}`, as `parseTxtLine`
 * would make it, taken without the general parse.
 */
export function plainNameOf(line: string): string | undefined {
  return canonicalHostname(line);
}

/** The fields of a CSV row or JSONL object, before they become a spec. */
interface EntryFields {
  address: string;
  name: string;
  port: number | undefined;
  labels: Readonly<Record<string, string>>;
}

function buildEntry(fields: EntryFields): ParsedSpec {
  const { address, name, port, labels } = fields;
  if (name !== '' && !isHostname(name)) throw new BadEntry(`"${name}" is not a valid hostname`);
  if (address !== '') {
    return parseSpecText(address, {
      name: name === '' ? undefined : name.toLowerCase(),
      port,
      labels,
    });
  }
  if (name === '') throw new BadEntry('neither address nor name given');
  const target: { name: string; port?: number; labels: Readonly<Record<string, string>> } = {
    name: name.toLowerCase(),
    labels,
  };
  if (port !== undefined) target.port = port;
  return { kind: 'target', target };
}

const CSV_KNOWN = new Set(['address', 'name', 'port', 'labels']);

/**
 * CSV with a header row. Columns `address`, `name`, `port`, `labels` (`k=v;k=v`), any order, header names
 * case-insensitive; any other column becomes a label named after its header (empty cells add no label). A row needs an address (IP or
 * CIDR block, optionally with a port) or a name; a hostname in the address
 * column is taken as the name when the name column is empty. Quoting per RFC 4180 on one line (`"a,b"`, `""` for a
 * quote); a quoted field spanning lines is not supported. Blank lines and lines starting with `#` are skipped.
 */
function createCsvParser(): LineParser {
  let header: string[] | undefined;
  let addressCol = -1;
  let nameCol = -1;
  let portCol = -1;
  let labelsCol = -1;
  return (line) => {
    if (line.trim() === '' || line.charCodeAt(0) === 35) return undefined;
    const cells = splitCsvLine(line);
    if (header === undefined) {
      header = cells.map((c) => c.trim().toLowerCase());
      const seen = new Set<string>();
      header.forEach((col, i) => {
        if (col === '') throw new BadEntry(`empty column name in header (column ${i + 1})`);
        if (seen.has(col)) throw new BadEntry(`duplicate column "${col}" in header`);
        if (!CSV_KNOWN.has(col) && !isLabelKey(col))
          throw new BadEntry(`bad column name "${col}" (a label key)`);
        seen.add(col);
      });
      addressCol = header.indexOf('address');
      nameCol = header.indexOf('name');
      portCol = header.indexOf('port');
      labelsCol = header.indexOf('labels');
      if (addressCol === -1 && nameCol === -1) {
        throw new BadEntry(`header has neither an "address" nor a "name" column: "${line}"`);
      }
      return undefined;
    }
    if (cells.length !== header.length) {
      throw new BadEntry(`expected ${header.length} fields, got ${cells.length}`);
    }
    const portText = portCol === -1 ? '' : (cells[portCol] ?? '');
    let labels: Record<string, string> | undefined;
    for (let i = 0; i < header.length; i++) {
      const col = header[i]!;
      const cell = cells[i] ?? '';
      if (CSV_KNOWN.has(col) || cell === '') continue;
      labels ??= {};
      labels[col] = cell;
    }
    const labelText = labelsCol === -1 ? '' : (cells[labelsCol] ?? '');
    return buildEntry({
      address: addressCol === -1 ? '' : (cells[addressCol] ?? ''),
      name: nameCol === -1 ? '' : (cells[nameCol] ?? ''),
      port: portText === '' ? undefined : parsePort(portText),
      labels:
        labelText === ''
          ? labels
            ? freezeLabels(labels)
            : EMPTY_LABELS
          : parseLabelList(labelText, labels ?? {}),
    });
  };
}

/** Splits one CSV line; unquoted cells are trimmed, quoted cells are kept verbatim. */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (i < n && line.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let from = ++i;
      for (;;) {
        const q = line.indexOf('"', from);
        if (q === -1) throw new BadEntry('unterminated quoted field (quoted fields cannot span lines)');
        if (line.charCodeAt(q + 1) === 34) {
          value += line.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value += line.slice(from, q);
        i = q + 1;
        break;
      }
      while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
      cells.push(value);
      if (i >= n) return cells;
      if (line.charCodeAt(i) !== 44)
        throw new BadEntry(`unexpected text after a quoted field: "${line.slice(i)}"`);
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma === -1) {
        cells.push(line.slice(i).trim());
        return cells;
      }
      cells.push(line.slice(i, comma).trim());
      i = comma + 1;
    }
  }
}

const JSON_KEYS = new Set(['address', 'name', 'port', 'labels']);

/**
 * JSON lines: `{"address"?: string, "name"?: string, "port"?: number | "digits", "labels"?: {k: v}}`.
 * Label values may be strings, numbers or booleans (kept as text). Unknown keys are an error (a typo such
 * as `adress` must not silently drop a target). Blank lines are skipped.
 */
export function parseJsonLine(line: string): ParsedSpec | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new BadEntry(`invalid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadEntry('expected a JSON object {address?, name?, port?, labels?}');
  }
  return parseTargetObject(value as Record<string, unknown>);
}

/**
 * A target given as an object (a JSON line, an API request): `{address?, name?, port?, labels?}`, with the
 * rules of JSON lines. `address` may also be a CIDR block. Throws `BadEntry`.
 */
export function parseTargetObject(obj: Readonly<Record<string, unknown>>): ParsedSpec {
  for (const key in obj) {
    if (!JSON_KEYS.has(key)) throw new BadEntry(`unknown field "${key}" (address, name, port, labels)`);
  }
  const { address, name, port, labels } = obj;
  if (address !== undefined && address !== null && typeof address !== 'string') {
    throw new BadEntry(`"address" must be a string, got ${JSON.stringify(address)}`);
  }
  if (name !== undefined && name !== null && typeof name !== 'string') {
    throw new BadEntry(`"name" must be a string, got ${JSON.stringify(name)}`);
  }
  let portNum: number | undefined;
  if (typeof port === 'number' || typeof port === 'string') portNum = parsePort(String(port));
  else if (port !== undefined && port !== null)
    throw new BadEntry(`bad port ${JSON.stringify(port)} (1-65535)`);
  let labelObj: Readonly<Record<string, string>> = EMPTY_LABELS;
  if (labels !== undefined && labels !== null) {
    if (typeof labels !== 'object' || Array.isArray(labels)) throw new BadEntry('"labels" must be an object');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new BadEntry(`label "${k}" must be a string, number or boolean`);
      }
      addLabel(out, `${k}=${v}`);
    }
    labelObj = freezeLabels(out);
  }
  return buildEntry({ address: address ?? '', name: name ?? '', port: portNum, labels: labelObj });
}
