import { isIPv4 } from 'node:net';
import { intToIpv4, ipv4ToInt } from './ip.js';

/**
 * Folds addresses into the fewest items for a summary, in the spirit of `clush -b` / `dshbak -c`:
 * `["127.20.3.0/25", "127.20.4.[1-60]"]`.
 *
 * Rule, for IPv4 (duplicates ignored):
 * 1. Runs of consecutive addresses are cut into maximal aligned CIDR blocks; blocks of 256 addresses or
 *    more (`/24` and bigger) are emitted as CIDR (`10.1.0.0/16`): one item instead of many.
 * 2. The remaining addresses are grouped by their first three octets. A group that is exactly one aligned
 *    block of 4 or more addresses is emitted as CIDR (`127.20.3.0/25`); a single address as itself; any
 *    other group as one bracket range `a.b.c.[1-3,7,9-12]` (one item however it is split, so cutting it
 *    into small CIDR blocks would only add items).
 * IPv4 items are ordered by address. Everything else (IPv6, names, garbage) follows, deduplicated and
 * sorted as text, as given.
 */
export function foldAddresses(addresses: readonly string[]): string[] {
  const v4 = new Set<number>();
  const others = new Set<string>();
  for (const address of addresses) {
    if (isIPv4(address)) v4.add(ipv4ToInt(address));
    else others.add(address);
  }
  const sorted = Float64Array.from(v4).sort();
  const ranges: [number, number][] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push([sorted[i]!, sorted[j]!]);
    i = j + 1;
  }
  return [...foldIpv4Ranges(ranges), ...[...others].sort()];
}

/**
 * The IPv4 half of `foldAddresses`, for callers that already hold addresses as sorted, disjoint,
 * non-adjacent inclusive integer ranges (the run summary keeps millions of addresses that way).
 */
export function foldIpv4Ranges(ranges: readonly (readonly [number, number])[]): string[] {
  const items: { start: number; text: string }[] = [];
  const leftovers: number[] = [];
  for (const [first, last] of ranges) cutRun(first, last, items, leftovers);
  for (let i = 0; i < leftovers.length; ) {
    const group = Math.floor(leftovers[i]! / 256);
    let j = i;
    while (j + 1 < leftovers.length && Math.floor(leftovers[j + 1]! / 256) === group) j++;
    items.push({ start: leftovers[i]!, text: foldGroup(leftovers.slice(i, j + 1)) });
    i = j + 1;
  }
  items.sort((a, b) => a.start - b.start);
  return items.map((item) => item.text);
}

/** Cuts [first, last] into aligned blocks; blocks >= 256 become CIDR items, the rest leftovers (in order). */
function cutRun(
  first: number,
  last: number,
  items: { start: number; text: string }[],
  leftovers: number[],
): void {
  let cur = first;
  while (cur <= last) {
    let size = 1;
    // Largest power of two that is aligned at `cur` and fits before `last`.
    while (cur % (size * 2) === 0 && cur + size * 2 - 1 <= last && size < 2 ** 32) size *= 2;
    if (size >= 256) {
      items.push({ start: cur, text: `${intToIpv4(cur)}/${32 - Math.log2(size)}` });
    } else {
      for (let n = cur; n < cur + size; n++) leftovers.push(n);
    }
    cur += size;
  }
}

/** Addresses sharing their first three octets (sorted, distinct) -> one item. */
function foldGroup(group: number[]): string {
  const first = group[0]!;
  if (group.length === 1) return intToIpv4(first);
  const size = group.length;
  const isPow2 = (size & (size - 1)) === 0;
  if (size >= 4 && isPow2 && first % size === 0 && group[size - 1] === first + size - 1) {
    return `${intToIpv4(first)}/${32 - Math.log2(size)}`;
  }
  const prefix = intToIpv4(first).slice(0, intToIpv4(first).lastIndexOf('.') + 1);
  const ranges: string[] = [];
  for (let i = 0; i < group.length; ) {
    let j = i;
    while (j + 1 < group.length && group[j + 1] === group[j]! + 1) j++;
    const lo = group[i]! & 255;
    const hi = group[j]! & 255;
    ranges.push(lo === hi ? `${lo}` : `${lo}-${hi}`);
    i = j + 1;
  }
  return `${prefix}[${ranges.join(',')}]`;
}
