import net from 'node:net';
import type { Target } from '../../targets/target.js';
import type { HttpArgs } from './http-args.js';

/** The request line and headers of the check's request, as one latin1 string ready to write. */
export function buildRequest(args: HttpArgs, hostHeader: string): string {
  let head = `${args.method} ${args.path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: fleetprobe/0.1\r\n`;
  let hasAccept = false;
  for (const [name, value] of args.headers) {
    head += `${name}: ${value}\r\n`;
    if (name.length === 6 && name.toLowerCase() === 'accept') hasAccept = true;
  }
  if (!hasAccept) head += 'Accept: */*\r\n';
  return `${head}Connection: close\r\n\r\n`;
}

/**
 * The Host header value: `args.host`, else the target's name, else its address (IPv6 in brackets), with
 * `:port` when the port is not the scheme's default. A `host` that already carries a port is kept as is.
 */
export function hostHeaderFor(target: Target, args: HttpArgs, port: number): string {
  const defaultPort = args.scheme === 'https' ? 443 : 80;
  if (args.host !== undefined && /^(\[[^\]]*\]|[^:]*):\d+$/.test(args.host)) return args.host;
  let host = args.host ?? target.name ?? target.address ?? '';
  // Only an IPv6 literal has a colon here (checked first: isIPv6's regex costs ~2 us a target).
  if (host.includes(':') && net.isIPv6(host)) host = `[${host}]`;
  return port === defaultPort ? host : `${host}:${port}`;
}

/** TLS server name (SNI): `args.host` (without port) or the target's name; never an IP literal (RFC 6066). */
export function serverNameFor(target: Target, args: HttpArgs): string | undefined {
  let name = args.host ?? target.name;
  if (name === undefined) return undefined;
  const withPort = /^(\[[^\]]*\]|[^:]*):\d+$/.exec(name);
  if (withPort) name = withPort[1]!;
  if (name.startsWith('[')) return undefined;
  return net.isIP(name) === 0 ? name : undefined;
}
