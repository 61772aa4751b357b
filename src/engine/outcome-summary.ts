import { isIPv4 } from 'node:net';
import { ipv4ToInt } from '../targets/ip.js';
import type { Result, Status, StatusCounts } from './result.js';
import { emptyCounts } from './result.js';

const MAX_GROUPS = 64;
const MAX_OTHER_TARGETS = 10_000;

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
    // Passing targets are counted, not listed: their messages (a DNS answer, a status line) are often
    // unique per target and would crowd the outcomes worth reading out of the MAX_GROUPS.
    if (result.status === 'pass') return;
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
