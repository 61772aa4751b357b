import { isIPv4 } from 'node:net';
import type { Result, Status, StatusCounts } from './result.js';
import { emptyCounts } from './result.js';

const MAX_GROUPS = 64;
const MAX_OTHER_TARGETS = 10_000;
const MIN_CIDR_BLOCK = 64;

function ipv4ToInt(address: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return n * 256 + octet;
}

/**
 * A set of IPv4 addresses kept as sorted, merged [start, end] ranges. Results arrive roughly in address
 * order, so most additions extend the last range; the ranges are re-sorted and merged when they grow,
 * which keeps memory proportional to the number of holes, not to the number of addresses.
 */
export class Ipv4RangeSet {
  #starts: number[] = [];
  #ends: number[] = [];
  #compactAt = 4096;
  size = 0;

  add(address: number): void {
    this.size++;
    const last = this.#ends.length - 1;
    if (last >= 0 && this.#ends[last] === address - 1) {
      this.#ends[last] = address;
      return;
    }
    this.#starts.push(address);
    this.#ends.push(address);
    if (this.#starts.length >= this.#compactAt) {
      this.#compact();
      this.#compactAt = Math.max(4096, this.#starts.length * 2);
    }
  }

  #compact(): void {
    const order = this.#starts.map((_, i) => i).sort((a, b) => this.#starts[a]! - this.#starts[b]!);
    const starts: number[] = [];
    const ends: number[] = [];
    for (const i of order) {
      const s = this.#starts[i]!;
      const e = this.#ends[i]!;
      const last = ends.length - 1;
      if (last >= 0 && s <= ends[last]! + 1) ends[last] = Math.max(ends[last]!, e);
      else {
        starts.push(s);
        ends.push(e);
      }
    }
    this.#starts = starts;
    this.#ends = ends;
  }

  /** Sorted, merged inclusive ranges. */
  ranges(): [number, number][] {
    this.#compact();
    return this.#starts.map((s, i) => [s, this.#ends[i]!]);
  }
}

export interface OutcomeGroup {
  status: Status;
  message: string;
  count: number;
  ipv4: Ipv4RangeSet;
  /** Names and IPv6 addresses, up to a cap. */
  others: string[];
}

/**
 * Folds results into groups of identical outcome (status + message), as `dshbak -c` folds identical
 * output: "188 error connect ECONNREFUSED: 127.20.3.0/25, 127.20.4.[1-60]". Memory is bounded:
 * at most MAX_GROUPS groups (the rest go to one "other messages" group per status), IPv4 targets as
 * ranges, other targets listed up to a cap.
 */
export class OutcomeSummary {
  readonly counts: StatusCounts = emptyCounts();
  #groups = new Map<string, OutcomeGroup>();

  add(result: Result): void {
    this.counts[result.status]++;
    let key = `${result.status}\u0000${result.message}`;
    let group = this.#groups.get(key);
    if (!group && this.#groups.size >= MAX_GROUPS) {
      key = `${result.status}\u0000(other messages)`;
      group = this.#groups.get(key);
    }
    if (!group) {
      group = {
        status: result.status,
        message: key.split('\u0000')[1]!,
        count: 0,
        ipv4: new Ipv4RangeSet(),
        others: [],
      };
      this.#groups.set(key, group);
    }
    group.count++;
    if (isIPv4(result.target)) group.ipv4.add(ipv4ToInt(result.target));
    else if (group.others.length < MAX_OTHER_TARGETS) group.others.push(result.target);
  }

  get total(): number {
    let n = 0;
    for (const v of Object.values(this.counts)) n += v;
    return n;
  }

  /** Groups, largest first within the status order pass, fail, error, timeout, cancelled. */
  groups(): OutcomeGroup[] {
    const order: Record<Status, number> = { pass: 0, fail: 1, error: 2, timeout: 3, cancelled: 4 };
    return [...this.#groups.values()].sort((a, b) => order[a.status] - order[b.status] || b.count - a.count);
  }
}

function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Formats sorted inclusive IPv4 ranges the way `clush -b` does: maximal aligned CIDR blocks of at
 * least 64 addresses (smaller ones read better as ranges), then the leftovers of each /24 as `a.b.c.[1-3,7]`.
 */
export function formatIpv4Ranges(ranges: readonly (readonly [number, number])[]): string[] {
  const out: string[] = [];
  let leftoverPrefix = -1;
  let leftover: string[] = [];
  const flushLeftover = () => {
    if (leftover.length === 0) return;
    const base = intToIpv4(leftoverPrefix * 256).replace(/\.0$/, '');
    const single = leftover.length === 1 && !leftover[0]!.includes('-');
    out.push(single ? `${base}.${leftover[0]}` : `${base}.[${leftover.join(',')}]`);
    leftover = [];
  };
  const addLeftover = (s: number, e: number) => {
    for (let start = s; start <= e; ) {
      const prefix = Math.floor(start / 256);
      const end = Math.min(e, prefix * 256 + 255);
      if (prefix !== leftoverPrefix) {
        flushLeftover();
        leftoverPrefix = prefix;
      }
      leftover.push(start === end ? `${start & 255}` : `${start & 255}-${end & 255}`);
      start = end + 1;
    }
  };
  for (const [s, e] of ranges) {
    let cur = s;
    let pendingStart = -1;
    while (cur <= e) {
      // Largest aligned block starting at cur that fits in [cur, e].
      let size = 1;
      while (size < 2 ** 32 && cur % (size * 2) === 0 && cur + size * 2 - 1 <= e) size *= 2;
      if (size >= MIN_CIDR_BLOCK) {
        if (pendingStart >= 0) {
          addLeftover(pendingStart, cur - 1);
          pendingStart = -1;
        }
        flushLeftover();
        leftoverPrefix = -1;
        out.push(`${intToIpv4(cur)}/${32 - Math.log2(size)}`);
      } else if (pendingStart < 0) pendingStart = cur;
      cur += size;
    }
    if (pendingStart >= 0) addLeftover(pendingStart, e);
  }
  flushLeftover();
  return out;
}
