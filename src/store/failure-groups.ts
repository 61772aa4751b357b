import { type FailureGroup, GroupTargets } from '../engine/failure-groups.js';
import type { Status } from '../engine/result.js';
import type { Store } from './store.js';

/** Targets read per query while folding a group. */
const TARGET_PAGE = 5000;

/**
 * The failure groups of a stored run, the same model as the CLI's: counted in the database
 * (GROUP BY status, reason), the `limit` largest, each with its targets folded into ranges and its names
 * (read in keyset pages; memory per group is bounded by GroupTargets). Stops early when `signal` aborts.
 */
export async function loadFailureGroups(
  store: Store,
  runId: string,
  q: { statuses: readonly Status[]; limit: number; signal?: AbortSignal | undefined },
): Promise<{ groups: FailureGroup[]; groupCount: number }> {
  const { groups, groupCount } = await store.resultGroups(runId, { statuses: q.statuses, limit: q.limit });
  const out: FailureGroup[] = [];
  for (const g of groups) {
    q.signal?.throwIfAborted();
    const targets = new GroupTargets();
    let cursor: string | undefined;
    do {
      const page = await store.groupTargets(runId, g.status, g.reason, { limit: TARGET_PAGE, cursor });
      for (const t of page.targets) targets.add(t.target, t.name);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    out.push({ ...g, ...targets.fold() });
  }
  return { groups: out, groupCount };
}
