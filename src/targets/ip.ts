/**
 * Integer forms of IP addresses, for lazy CIDR expansion and folding. Inputs are assumed to be already
 * validated with `net.isIPv4` / `net.isIPv6`; these functions do no validation of their own.
 */

/** `a.b.c.d` -> unsigned 32-bit integer (a Number, 0..2^32-1). */
export function ipv4ToInt(address: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      value = value * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 48);
    }
  }
  return value * 256 + octet;
}

/** Unsigned 32-bit integer -> `a.b.c.d`. */
export function intToIpv4(value: number): string {
  return `${Math.floor(value / 16777216) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** An IPv6 literal (no zone id; may end in an embedded IPv4) -> its eight 16-bit words. */
export function ipv6ToWords(address: string): number[] {
  const words: number[] = [];
  const parseGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const v4 = ipv4ToInt(group);
        out.push(Math.floor(v4 / 65536), v4 & 0xffff);
      } else {
        out.push(Number.parseInt(group, 16));
      }
    }
    return out;
  };
  const gap = address.indexOf('::');
  if (gap === -1) return parseGroups(address);
  const head = parseGroups(address.slice(0, gap));
  const tail = parseGroups(address.slice(gap + 2));
  words.push(...head);
  for (let i = head.length + tail.length; i < 8; i++) words.push(0);
  words.push(...tail);
  return words;
}

/** An IPv6 literal (no zone id) -> unsigned 128-bit BigInt. */
export function ipv6ToBigInt(address: string): bigint {
  let value = 0n;
  for (const word of ipv6ToWords(address)) value = (value << 16n) | BigInt(word);
  return value;
}

/** Unsigned 128-bit BigInt -> canonical compressed IPv6 text (RFC 5952: lowercase, longest zero run as `::`). */
export function bigIntToIpv6(value: bigint): string {
  const words = new Array<number>(8);
  for (let i = 7; i >= 0; i--) {
    words[i] = Number(value & 0xffffn);
    value >>= 16n;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero word is not compressed (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    words
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}
