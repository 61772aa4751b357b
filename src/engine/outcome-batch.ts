import { ipv4Key } from './failure-groups.js';
import { reasonOf } from './reason.js';
import type { Result, Status, StatusCounts } from './result.js';
import { countStatus, emptyCounts } from './result.js';

/** What a failure group takes from a non-pass result besides its target: its status, reason and message. */
export interface FailureKind {
  readonly status: Exclude<Status, 'pass'>;
  /** `reasonOf` the result. */
  readonly reason: string;
  readonly message: string;
}

/**
 * What an outcome summary (`OutcomeSummary.addBatch`) needs of a batch of results, without the results:
 * counts per status, and each non-pass result in order as its kind, target and name. Made where the results
 * are (a worker thread), so the thread that summarises never parses them. Kinds are listed once per batch:
 * a run repeats a few (`connect ECONNREFUSED`) for most of its failures.
 */
export interface OutcomeBatch {
  readonly counts: StatusCounts;
  /** The distinct kinds of the batch's non-pass results. */
  readonly kinds: readonly FailureKind[];
  /** Per non-pass result, in order: the index of its kind in `kinds`. */
  readonly kindOf: readonly number[];
  /**
   * Per non-pass result, in order: its target as a group keeps it (`ipv4Key`): an IPv4 address's integer,
   * or -1 for the next of `otherTargets`. Integers travel between threads for less than strings.
   */
  readonly ipv4: readonly number[];
  /** The targets that are not IPv4 addresses, in order. */
  readonly otherTargets: readonly string[];
  /** Per non-pass result, in order: the name a group lists, null if none (no name, or the target itself). */
  readonly names: readonly (string | null)[];
}

/** Results handed over whole rather than as objects (`BatchSink`): their JSONL lines and their outcomes. */
export interface LinesBatch {
  /**
   * The results' JSONL lines, each with its newline, in order, as UTF-8 (encoded where they were made, so
   * they are written as they are); empty when the sink asked for none.
   */
  readonly lines: Uint8Array;
  readonly outcomes: OutcomeBatch;
}

/** The outcomes of `results`, in their order. */
export function outcomeBatch(results: readonly Result[]): OutcomeBatch {
  const counts = emptyCounts();
  const kinds: FailureKind[] = [];
  const kindIndex = new Map<string, number>();
  const kindOf: number[] = [];
  const ipv4: number[] = [];
  const otherTargets: string[] = [];
  const names: (string | null)[] = [];
  for (const result of results) {
    const status = result.status;
    countStatus(counts, status);
    if (status === 'pass') continue;
    const reason = reasonOf(result);
    const key = `${status}\u0000${reason}\u0000${result.message}`;
    let kind = kindIndex.get(key);
    if (kind === undefined) {
      kind = kinds.push({ status, reason, message: result.message }) - 1;
      kindIndex.set(key, kind);
    }
    kindOf.push(kind);
    const { target, name } = result;
    const address = ipv4Key(target);
    ipv4.push(address);
    if (address < 0) otherTargets.push(target);
    names.push(name !== target ? name : null);
  }
  return { counts, kinds, kindOf, ipv4, otherTargets, names };
}

/** Results in the batch. */
export function batchSize(batch: OutcomeBatch): number {
  const c = batch.counts;
  return c.pass + c.fail + c.error + c.timeout + c.cancelled;
}
