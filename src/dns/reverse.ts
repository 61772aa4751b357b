import net from 'node:net';
import { canonicalAddress } from './server-spec.js';

/**
 * The PTR question name of an address: `4.3.2.1.in-addr.arpa` for 1.2.3.4, nibbles under `ip6.arpa` for IPv6.
 * Returns undefined for something that is not an IP literal.
 */
export function reverseName(address: string): string | undefined {
  if (net.isIPv4(address)) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  if (!net.isIPv6(address)) return undefined;
  const canon = canonicalAddress(address);
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canon);
  const halves = (dotted ? `::ffff:${v4ToHex(dotted[1]!)}` : canon).split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const all = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  const nibbles = all.map((g) => g.padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

function v4ToHex(v4: string): string {
  const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}
