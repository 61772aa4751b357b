import { isIPv4 } from 'node:net';
import { foldIpv4Ranges } from '../targets/fold.js';
import { ipv4ToInt } from '../targets/ip.js';
import { Ipv4RangeSet } from './ipv4-range-set.js';
import type { Status } from './result.js';

/**
 * One failure group: the results of a run with the same status and reason. The one model behind the CLI's
 * summary and `-o groups`, `GET /api/v1/runs/:id/groups` and the dashboard's groups panel.
 */
export interface FailureGroup {
  status: Status;
  /** The stable reason (see `reasonOf`), the group's key with `status`. */
  reason: string;
  /** Results in the group. */
  count: number;
  /** One message of the group, to show when all are alike. */
  message: string;
  /** Whether the messages of the group differ (then the reason is the better title). */
  messagesVary: boolean;
  /** The group's targets folded: IPv4 as CIDRs and `a.b.c.[1-3,7]` ranges in address order, then others. */
  targets: string[];
  /** Distinct names of the group's targets (those given by name with an address), sorted. */
  names: string[];
  /** Targets and names that were counted but not kept (the lists are bounded); 0 when the lists are complete. */
  unlisted: number;
}

/** The title of a group: its message when all messages are alike, else its reason template. */
export function groupTitle(g: Pick<FailureGroup, 'message' | 'messagesVary' | 'reason'>): string {
  return g.messagesVary ? g.reason : g.message;
}

/** A target as a group keeps it: an IPv4 address as its integer; -1 for any other (kept as its text). */
export function ipv4Key(target: string): number {
  return isIPv4(target) ? ipv4ToInt(target) : -1;
}

/** Names and non-IPv4 targets kept per group by default. */
export const DEFAULT_LIST_CAP = 10_000;

/**
 * The targets of one group, in bounded memory: IPv4 addresses as ranges (memory grows with the holes, not
 * the addresses), other targets and names listed up to `listCap` each (the rest only counted).
 */
export class GroupTargets {
  readonly #ipv4 = new Ipv4RangeSet();
  readonly #others: string[] = [];
  readonly #names = new Set<string>();
  readonly #listCap: number;
  #unlisted = 0;

  constructor(listCap = DEFAULT_LIST_CAP) {
    this.#listCap = listCap;
  }

  add(target: string, name: string | null): void {
    const ipv4 = ipv4Key(target);
    if (ipv4 >= 0) this.#ipv4.add(ipv4);
    else this.addOther(target);
    if (name !== null && name !== target) this.addName(name);
  }

  /** An IPv4 address as its integer. */
  addIpv4(address: number): void {
    this.#ipv4.add(address);
  }

  /** A target that is not an IPv4 address (IPv6, a name). */
  addOther(target: string): void {
    if (this.#others.length < this.#listCap) this.#others.push(target);
    else this.#unlisted++;
  }

  addName(name: string): void {
    if (name === '' || this.#names.has(name)) return;
    if (this.#names.size < this.#listCap) this.#names.add(name);
    else this.#unlisted++;
  }

  /** Counts targets or names that were not even read (e.g. beyond a sample). */
  addUnlisted(n: number): void {
    this.#unlisted += n;
  }

  /** The folded targets, names (sorted) and the number not kept. */
  fold(): Pick<FailureGroup, 'targets' | 'names' | 'unlisted'> {
    return {
      targets: [...foldIpv4Ranges(this.#ipv4.ranges()), ...[...new Set(this.#others)].sort()],
      names: [...this.#names].sort(),
      unlisted: this.#unlisted,
    };
  }
}
