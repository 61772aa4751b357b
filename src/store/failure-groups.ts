import { type FailureGroup, GroupTargets } from '../engine/failure-groups.js';
import type { Status } from '../engine/result.js';
import { parseTargetKey } from './target-key.js';
import type { Store } from './types.js';

/** Target keys read per query while folding a group. */
const TARGET_PAGE = 20_000;
/** Results per group whose names and messages are read (the first in address order). */
const SAMPLE = 1000;

/**
 * The failure groups of a stored run, the same model as the CLI's: counted in the database
 * (GROUP BY status, reason), the `limit` largest, each with every target folded into ranges (read from an
 * index alone, in keyset pages, in address order). Names and `messagesVary` come from the group's first
 * 1,000 results in address order; `unlisted` counts the results beyond them whose names were not read.
 * Stops early when `signal` aborts.
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
      for (const key of page.keys) {
        const t = parseTargetKey(key);
        if ('ipv4' in t) targets.addIpv4(t.ipv4);
        else targets.addOther(t.text);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    const sample = await store.groupSample(runId, g.status, g.reason, { limit: SAMPLE });
    const message = sample[0]?.message ?? g.reason;
    let named = false;
    for (const r of sample) {
      if (r.name !== null && r.name !== r.target) {
        targets.addName(r.name);
        named = true;
      }
    }
    if (named && g.count > sample.length) targets.addUnlisted(g.count - sample.length);
    out.push({
      ...g,
      message,
      messagesVary: sample.some((r) => r.message !== message),
      ...targets.fold(),
    });
  }
  return { groups: out, groupCount };
}
