import { type FailureGroup, GroupTargets } from './failure-groups.js';
import type { OutcomeBatch } from './outcome-batch.js';
import { reasonOf } from './reason.js';
import type { Result, Status, StatusCounts } from './result.js';
import { addCounts, countStatus, emptyCounts } from './result.js';

export { Ipv4RangeSet } from './ipv4-range-set.js';

const groupKey = (status: Status, reason: string) => `${status}\u0000${reason}`;

/** Groups tracked at once by default: exact while a run has no more distinct (status, reason) pairs. */
export const DEFAULT_GROUP_CAPACITY = 256;

const STATUS_ORDER: Record<Status, number> = { pass: 0, fail: 1, error: 2, timeout: 3, cancelled: 4 };

interface Tracked {
  status: Status;
  reason: string;
  /** Results seen since the group was (last) tracked: exact for the targets it lists. */
  count: number;
  /** Space-Saving's overestimate: the count of the group it replaced (0 if it never replaced one). */
  inherited: number;
  message: string;
  messagesVary: boolean;
  targets: GroupTargets;
}

export interface OutcomeSummaryOptions {
  /** Most groups tracked at once (default 256). */
  groupCapacity?: number;
  /** Names and non-IPv4 targets kept per group (default 10,000). */
  listCap?: number;
}

/**
 * Folds results into failure groups of (status, reason), as `dshbak -c` folds identical output:
 * "188 error connect ECONNREFUSED: 127.20.3.0/25, 127.20.4.[1-60]". Passing results are counted, not grouped.
 *
 * Groups are chosen by count, not arrival, in bounded memory: a Space-Saving heavy-hitters table of
 * `groupCapacity` groups. While a run has at most that many distinct groups every count is exact (the usual
 * case, reasons being templates). Beyond it the smallest group makes room for a newcomer: its results are
 * then counted in `other()` and its targets forgotten, so any group holding more than 1/capacity of the
 * failures is always kept. Targets are kept as IPv4 ranges plus bounded lists (GroupTargets).
 */
export class OutcomeSummary {
  readonly counts: StatusCounts = emptyCounts();
  readonly #groups = new Map<string, Tracked>();
  readonly #other: StatusCounts = emptyCounts();
  readonly #capacity: number;
  readonly #listCap: number | undefined;
  #evictions = 0;

  constructor(opts: OutcomeSummaryOptions = {}) {
    this.#capacity = Math.max(1, opts.groupCapacity ?? DEFAULT_GROUP_CAPACITY);
    this.#listCap = opts.listCap;
  }

  add(result: Result): void {
    countStatus(this.counts, result.status);
    if (result.status === 'pass') return;
    const group = this.#group(result.status, reasonOf(result), result.message);
    this.#count(group, result.message);
    group.targets.add(result.target, result.name);
  }

  /**
   * The outcomes of a batch of results (`outcomeBatch`), exactly as `add` of each result in order would
   * fold them: passing results only counted, each failing one looked up by its kind's key.
   */
  addBatch(batch: OutcomeBatch): void {
    addCounts(this.counts, batch.counts);
    const { kinds, kindOf, ipv4, otherTargets, names } = batch;
    if (kindOf.length === 0) return;
    const keys = kinds.map((k) => groupKey(k.status, k.reason));
    let other = 0;
    for (let i = 0; i < kindOf.length; i++) {
      const kind = kinds[kindOf[i]!]!;
      const group =
        this.#groups.get(keys[kindOf[i]!]!) ?? this.#group(kind.status, kind.reason, kind.message);
      this.#count(group, kind.message);
      const address = ipv4[i]!;
      if (address >= 0) group.targets.addIpv4(address);
      else group.targets.addOther(otherTargets[other++]!);
      const name = names[i]!;
      if (name !== null) group.targets.addName(name);
    }
  }

  /** The group of (status, reason), made (making room if need be) when there is none. */
  #group(status: Status, reason: string, message: string): Tracked {
    const key = groupKey(status, reason);
    let group = this.#groups.get(key);
    if (!group) {
      const inherited = this.#groups.size >= this.#capacity ? this.#evictSmallest() : 0;
      group = {
        status,
        reason,
        count: 0,
        inherited,
        message,
        messagesVary: false,
        targets: new GroupTargets(this.#listCap),
      };
      this.#groups.set(key, group);
    }
    return group;
  }

  #count(group: Tracked, message: string): void {
    group.count++;
    if (!group.messagesVary && message !== group.message) group.messagesVary = true;
  }

  /** Drops the group with the smallest estimate; returns that estimate (the newcomer's possible error). */
  #evictSmallest(): number {
    let minKey: string | undefined;
    let min: Tracked | undefined;
    for (const [key, g] of this.#groups) {
      if (!min || g.count + g.inherited < min.count + min.inherited) {
        min = g;
        minKey = key;
      }
    }
    if (!min || minKey === undefined) return 0;
    this.#groups.delete(minKey);
    this.#other[min.status] += min.count;
    this.#evictions++;
    return min.count + min.inherited;
  }

  get total(): number {
    let n = 0;
    for (const v of Object.values(this.counts)) n += v;
    return n;
  }

  /** Whether every failing result is in a group (no group ever had to make room). */
  get exact(): boolean {
    return this.#evictions === 0;
  }

  /** Per status, failing results that are in no group (their group made room for a larger one). */
  other(): StatusCounts {
    return { ...this.#other };
  }

  /** The groups, largest first (ties: status order fail, error, timeout, cancelled, then reason). */
  groups(): FailureGroup[] {
    return [...this.#groups.values()]
      .sort(
        (a, b) =>
          b.count - a.count ||
          STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
          (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0),
      )
      .map((g) => ({
        status: g.status,
        reason: g.reason,
        count: g.count,
        message: g.message,
        messagesVary: g.messagesVary,
        ...g.targets.fold(),
      }));
  }
}
