import { isIPv4, isIPv6 } from 'node:net';
import { TargetParseError } from '../core/errors.js';
import { BadEntry } from './bad-entry.js';
import { bigIntToIpv6, intToIpv4, ipv4ToInt, ipv6ToBigInt } from './ip.js';
import { EMPTY_LABELS } from './labels.js';
import type { Target } from './target.js';

/** One parsed spec: a single target, or an address block expanded lazily. */
export type ParsedSpec = SingleSpec | BlockSpec;

export interface SingleSpec {
  readonly kind: 'target';
  readonly target: Target;
}

/**
 * A CIDR block. Every address of the block is a target, network and broadcast addresses included
 * (nmap style): these are hosts to test, not a subnet's usable range, and a `/31` or `/32` would otherwise
 * be surprising. A block given with host bits set (`10.0.0.5/24`) means the block containing it (`10.0.0.0/24`).
 */
export interface BlockSpec {
  readonly kind: 'block';
  readonly family: 4 | 6;
  /** The network address (canonical text). */
  readonly network: string;
  readonly prefix: number;
  /** Number of addresses: 2^(32|128 - prefix). A BigInt because an IPv6 block can exceed 2^53. */
  readonly count: bigint;
  readonly port?: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Yields the block's targets in address order, one at a time (a /8 is never materialised). */
  expand(): Generator<Target, void, undefined>;
}

/** Number of targets of a parsed spec. */
export function specCount(spec: ParsedSpec): bigint {
  return spec.kind === 'target' ? 1n : spec.count;
}

/** Yields the targets of a parsed spec lazily. */
export function* expandSpec(spec: ParsedSpec): Generator<Target, void, undefined> {
  if (spec.kind === 'target') yield spec.target;
  else yield* spec.expand();
}

class Ipv4Block implements BlockSpec {
  readonly kind = 'block';
  readonly family = 4;
  readonly count: bigint;
  readonly network: string;
  constructor(
    private readonly first: number,
    readonly prefix: number,
    readonly port: number | undefined,
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.count = 1n << BigInt(32 - prefix);
    this.network = intToIpv4(first);
  }
  *expand(): Generator<Target, void, undefined> {
    const end = this.first + 2 ** (32 - this.prefix);
    const { port, labels } = this;
    for (let n = this.first; n < end; n++) {
      const address = intToIpv4(n);
      yield port === undefined ? { address, labels } : { address, port, labels };
    }
  }
}

class Ipv6Block implements BlockSpec {
  readonly kind = 'block';
  readonly family = 6;
  readonly count: bigint;
  readonly network: string;
  constructor(
    private readonly first: bigint,
    readonly prefix: number,
    readonly port: number | undefined,
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.count = 1n << BigInt(128 - prefix);
    this.network = bigIntToIpv6(first);
  }
  *expand(): Generator<Target, void, undefined> {
    const end = this.first + this.count;
    const { port, labels } = this;
    for (let n = this.first; n < end; n++) {
      const address = bigIntToIpv6(n);
      yield port === undefined ? { address, labels } : { address, port, labels };
    }
  }
}

/** Extra fields an entry of a targets file adds to its address spec. */
export interface SpecFields {
  readonly name?: string;
  readonly port?: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/** No extra fields (shared: a spec without any costs no object). */
export const NO_FIELDS: SpecFields = Object.freeze({});

/**
 * Parses one target spec given on the command line: `10.0.0.1`, `2001:db8::1`, `[2001:db8::1]:8443`,
 * `host.example`, `host.example:22`, `127.0.0.1:8080`, `192.0.2.0/28`, `2001:db8::/120`.
 * IPv4 and IPv6 literals are kept as given (IPv6 lowercased); names are lowercased and must be RFC 1123
 * hostnames (a name target has no address: the engine resolves it). Ports are 1..65535.
 * Throws `TargetParseError(where, reason)` (code `FP_BAD_TARGET`), e.g. where = `argument 3`.
 */
export function parseTargetSpec(spec: string, where: string): ParsedSpec {
  try {
    return parseSpecText(spec.trim(), NO_FIELDS);
  } catch (err) {
    if (err instanceof BadEntry) throw new TargetParseError(where, err.message);
    throw err;
  }
}

/** Internal: parses a spec, throwing `BadEntry`. `fields` adds a name/port/labels from a file's columns. */
export function parseSpecText(text: string, fields: SpecFields): ParsedSpec {
  const labels = fields.labels ?? EMPTY_LABELS;
  if (text === '') throw new BadEntry('empty target');
  // The usual spec of a bulk DNS run first: a hostname has no `[`, `/` or `:` and is never an IPv4 address.
  const name = canonicalHostname(text);
  if (name !== undefined) {
    if (fields.name !== undefined) throw new BadEntry(`"${text}" is a name: give an IP address or block`);
    return single(undefined, name, undefined, fields, labels);
  }
  let host = text;
  let portText: string | undefined;
  if (text.charCodeAt(0) === 91 /* [ */) {
    const close = text.indexOf(']');
    if (close === -1) throw new BadEntry(`"${text}" has no closing "]"`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (rest.charCodeAt(0) !== 58 /* : */)
        throw new BadEntry(`unexpected "${rest}" after "]" in "${text}"`);
      portText = rest.slice(1);
    }
    if (host.includes('/')) return parseBlock(host, text, portText, fields, labels);
    if (!isIPv6(host)) throw new BadEntry(`"${host}" is not a valid IPv6 address`);
    return single(host.toLowerCase(), undefined, portText, fields, labels);
  }
  if (text.includes('/')) return parseBlock(text, text, undefined, fields, labels);
  const firstColon = text.indexOf(':');
  if (firstColon !== -1) {
    if (text.indexOf(':', firstColon + 1) !== -1) {
      if (isIPv6(text)) return single(text.toLowerCase(), undefined, undefined, fields, labels);
      throw new BadEntry(`"${text}" is not a valid IPv6 address`);
    }
    host = text.slice(0, firstColon);
    portText = text.slice(firstColon + 1);
  }
  if (isIPv4(host)) return single(host, undefined, portText, fields, labels);
  if (looksNumeric(host)) throw new BadEntry(`"${host}" is not a valid IPv4 address`);
  const hostName = canonicalHostname(host);
  if (hostName === undefined) throw new BadEntry(`"${host}" is not a valid hostname`);
  if (fields.name !== undefined) throw new BadEntry(`"${host}" is a name: give an IP address or block`);
  return single(undefined, hostName, portText, fields, labels);
}

function single(
  address: string | undefined,
  name: string | undefined,
  portText: string | undefined,
  fields: SpecFields,
  labels: Readonly<Record<string, string>>,
): SingleSpec {
  const port = mergePort(portText, fields.port);
  name ??= fields.name;
  // Only present keys are set: JSON output stays small and `toEqual` in tests stays exact. The usual
  // shapes are built whole (one allocation, no property added later).
  let target: Target;
  if (port === undefined && (address === undefined || name === undefined)) {
    if (address !== undefined) target = { labels, address };
    else if (name !== undefined) target = { labels, name };
    else target = { labels };
  } else {
    const t: { address?: string; name?: string; port?: number; labels: Readonly<Record<string, string>> } = {
      labels,
    };
    if (address !== undefined) t.address = address;
    if (name !== undefined) t.name = name;
    if (port !== undefined) t.port = port;
    target = t;
  }
  return { kind: 'target', target };
}

function mergePort(portText: string | undefined, fieldPort: number | undefined): number | undefined {
  if (portText === undefined) return fieldPort;
  const port = parsePort(portText);
  if (fieldPort !== undefined) throw new BadEntry(`port given twice (${port} and ${fieldPort})`);
  return port;
}

function parseBlock(
  block: string,
  text: string,
  portText: string | undefined,
  fields: SpecFields,
  labels: Readonly<Record<string, string>>,
): BlockSpec {
  if (fields.name !== undefined) throw new BadEntry(`a name cannot be given to the block "${text}"`);
  const port = mergePort(portText, fields.port);
  const slash = block.indexOf('/');
  const addr = block.slice(0, slash);
  const prefixText = block.slice(slash + 1);
  if (isIPv4(addr)) {
    const prefix = parsePrefix(prefixText, 32, text);
    const size = 2 ** (32 - prefix);
    const first = Math.floor(ipv4ToInt(addr) / size) * size;
    return new Ipv4Block(first, prefix, port, labels);
  }
  if (addr.includes(':')) {
    if (!isIPv6(addr) || addr.includes('%')) throw new BadEntry(`"${addr}" is not a valid IPv6 address`);
    const prefix = parsePrefix(prefixText, 128, text);
    const hostBits = BigInt(128 - prefix);
    const first = (ipv6ToBigInt(addr) >> hostBits) << hostBits;
    return new Ipv6Block(first, prefix, port, labels);
  }
  throw new BadEntry(`"${addr}" is not a valid IPv4 address`);
}

function parsePrefix(text: string, max: number, spec: string): number {
  const n = parseDigits(text, 3);
  if (n === undefined || n > max) throw new BadEntry(`bad prefix length "${text}" in "${spec}" (0-${max})`);
  return n;
}

/** Parses a decimal port 1..65535; throws `BadEntry` naming the bad value otherwise. */
export function parsePort(text: string): number {
  const n = parseDigits(text, 5);
  if (n === undefined || n < 1 || n > 65535) throw new BadEntry(`bad port "${text}" (1-65535)`);
  return n;
}

/** Digits only (no sign, no spaces), at most `maxLen` of them; otherwise undefined. */
function parseDigits(text: string, maxLen: number): number | undefined {
  if (text.length === 0 || text.length > maxLen) return undefined;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return n;
}

/** Digits and dots only, with at least one dot: an attempt at an IPv4 address, not a hostname. */
function looksNumeric(text: string): boolean {
  let dot = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) dot = true;
    else if (c < 48 || c > 57) return false;
  }
  return dot;
}

const NOT_A_HOSTNAME = 0;
const LOWERCASE_HOSTNAME = 1;
const HOSTNAME_WITH_CAPITALS = 2;

/**
 * RFC 1123 hostname: dot-separated labels of 1..63 letters, digits and hyphens, not starting or ending
 * with a hyphen, 253 characters at most, one trailing dot allowed; the last label is not all digits
 * (RFC 3696) so `1.2.3.999` is a bad address, not a name. Underscores are rejected.
 */
export function isHostname(text: string): boolean {
  return scanHostname(text) !== NOT_A_HOSTNAME;
}

/** `text` lowercased if it is a hostname (`isHostname`), else undefined. Copies only a name with capitals. */
export function canonicalHostname(text: string): string | undefined {
  const scan = scanHostname(text);
  if (scan === LOWERCASE_HOSTNAME) return text;
  return scan === HOSTNAME_WITH_CAPITALS ? text.toLowerCase() : undefined;
}

function scanHostname(text: string): number {
  let len = text.length;
  if (len > 1 && text.charCodeAt(len - 1) === 46) len--;
  if (len === 0 || len > 253) return NOT_A_HOSTNAME;
  let labelLen = 0;
  let labelDigitsOnly = true;
  let capitals = false;
  let prev = 46;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (labelLen === 0 || prev === 45) return NOT_A_HOSTNAME;
      labelLen = 0;
      labelDigitsOnly = true;
    } else if (c >= 48 && c <= 57) {
      if (++labelLen > 63) return NOT_A_HOSTNAME;
    } else if (c >= 97 && c <= 122) {
      if (++labelLen > 63) return NOT_A_HOSTNAME;
      labelDigitsOnly = false;
    } else if (c >= 65 && c <= 90) {
      if (++labelLen > 63) return NOT_A_HOSTNAME;
      labelDigitsOnly = false;
      capitals = true;
    } else if (c === 45) {
      if (labelLen === 0) return NOT_A_HOSTNAME;
      if (++labelLen > 63) return NOT_A_HOSTNAME;
      labelDigitsOnly = false;
    } else {
      return NOT_A_HOSTNAME;
    }
    prev = c;
  }
  if (labelLen === 0 || prev === 45 || labelDigitsOnly) return NOT_A_HOSTNAME;
  return capitals ? HOSTNAME_WITH_CAPITALS : LOWERCASE_HOSTNAME;
}
