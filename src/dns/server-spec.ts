import net from 'node:net';
import { DnsServerSpecError } from './errors.js';

/** A DNS server to ask: an IP literal and a UDP/TCP port. */
export interface DnsServer {
  readonly address: string;
  readonly port: number;
}

/** Default DNS port. */
export const DNS_PORT = 53;

/**
 * Parses `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT` (a bare IPv6 literal is taken whole, without port).
 * Hostnames are rejected: the resolver must be an address. Throws `DnsServerSpecError` (a `UsageError`).
 */
export function parseDnsServer(spec: string, defaultPort = DNS_PORT): DnsServer {
  const s = spec.trim();
  if (s === '') throw new DnsServerSpecError(spec, 'empty');
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new DnsServerSpecError(spec, 'missing "]"');
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new DnsServerSpecError(spec, `unexpected "${rest}" after "]"`);
      portText = rest.slice(1);
    }
    if (net.isIPv6(host) === false) throw new DnsServerSpecError(spec, `"${host}" is not an IPv6 address`);
  } else if (net.isIPv6(s)) {
    host = s;
  } else {
    const colon = s.lastIndexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    portText = colon < 0 ? undefined : s.slice(colon + 1);
    if (!net.isIPv4(host)) throw new DnsServerSpecError(spec, `"${host}" is not an IP address`);
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw new DnsServerSpecError(spec, `port "${portText}" is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw new DnsServerSpecError(spec, `port ${port} is out of range 1-65535`);
  }
  return { address: canonicalAddress(host), port };
}

/** `ip:port`, or `[ip]:port` for IPv6. */
export function formatDnsServer(server: DnsServer): string {
  return server.address.includes(':')
    ? `[${server.address}]:${server.port}`
    : `${server.address}:${server.port}`;
}

/**
 * The form the kernel reports a peer in (`rinfo.address`): IPv4 as is, IPv6 lower-case with the longest
 * run of zero groups compressed (RFC 5952), so a reply's source can be compared as a string.
 */
export function canonicalAddress(address: string): string {
  if (!address.includes(':')) return address;
  const groups = expandIpv6(address.toLowerCase());
  if (!groups) return address.toLowerCase();
  // An IPv4-mapped address is printed in dotted form by inet_ntop.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function expandIpv6(address: string): number[] | undefined {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const head = parse(halves[0] ?? '');
  const tail = halves.length === 2 ? parse(halves[1] ?? '') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<number>(Math.max(0, fill)).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}
