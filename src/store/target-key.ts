import { isIPv4, isIPv6 } from 'node:net';
import { bigIntToIpv6, ipv4ToInt, ipv6ToWords } from '../targets/ip.js';

/**
 * A text key that sorts targets as people expect: IPv4 addresses numerically (`4` + 8 hex digits), then
 * IPv6 (`6` + 32 hex digits), then names as text (`n` + name). Stored beside each result (`target_key`), so
 * the store can order by address and turn an IPv4 CIDR filter into one range comparison on an index.
 */
export function targetKey(target: string): string {
  if (isIPv4(target)) return `4${ipv4ToInt(target).toString(16).padStart(8, '0')}`;
  if (isIPv6(target))
    return `6${ipv6ToWords(target)
      .map((w) => w.toString(16).padStart(4, '0'))
      .join('')}`;
  return `n${target}`;
}

/** The inclusive key range of an IPv4 block given as integers. */
export function ipv4KeyRange(first: number, last: number): [string, string] {
  return [`4${first.toString(16).padStart(8, '0')}`, `4${last.toString(16).padStart(8, '0')}`];
}

/** A `targetKey` back to its target: `{ipv4}` (the integer) for IPv4, else `{text}` (IPv6 address or name). */
export function parseTargetKey(key: string): { ipv4: number } | { text: string } {
  if (key.startsWith('4')) return { ipv4: Number.parseInt(key.slice(1), 16) };
  if (key.startsWith('6')) return { text: bigIntToIpv6(BigInt(`0x${key.slice(1)}`)) };
  return { text: key.slice(1) };
}
