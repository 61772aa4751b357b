import { formatNumber } from '../core/text.js';
import { groupTitle } from '../engine/failure-groups.js';
import type { OutcomeSummary } from '../engine/outcome-summary.js';
import { STATUSES } from '../engine/result.js';
import type { RunOverload } from '../engine/types.js';

const MAX_TARGETS_SHOWN = 12;

/**
 * The final summary: counts per status, wall time and rate, then one line per distinct outcome with
 * its targets folded into CIDRs/ranges ("188 error connect ECONNREFUSED: 127.20.3.0/25, 127.20.4.[1-60]").
 * Passing targets are counted but not listed. When the client itself was overloaded (`overload`: event-loop
 * stalls, checks re-run after a stalled deadline, a lowered in-flight limit), one line says so.
 */
export function formatSummary(
  summary: OutcomeSummary,
  wallMs: number,
  cancelled: boolean,
  overload?: RunOverload,
): string {
  const counts = STATUSES.filter((s) => summary.counts[s] > 0)
    .map((s) => `${formatNumber(summary.counts[s])} ${s}`)
    .join('; ');
  // Cancelled targets were never checked: they would inflate the rate of a run cut short.
  const checked = summary.total - summary.counts.cancelled;
  const rate = wallMs > 0 ? (checked * 1000) / wallMs : 0;
  const lines = [
    `${cancelled ? 'cancelled: ' : ''}${formatNumber(summary.total)} targets in ${(wallMs / 1000).toFixed(2)} s ` +
      `(${formatNumber(Math.round(rate))} checks/s): ${counts || 'nothing run'}`,
  ];
  let cut = false;
  const client = overload ? formatOverload(overload) : undefined;
  if (client) lines.push(client);
  for (const group of summary.groups()) {
    const folded = group.targets;
    const shown = folded.slice(0, MAX_TARGETS_SHOWN).join(', ');
    const hidden = folded.length - Math.min(folded.length, MAX_TARGETS_SHOWN) + group.unlisted;
    if (hidden > 0 || group.names.length > 0) cut = true;
    const more = hidden > 0 ? `, ... (+${hidden} more)` : '';
    lines.push(`  ${formatNumber(group.count)} ${group.status} ${groupTitle(group)}: ${shown}${more}`);
  }
  const other = summary.other();
  for (const s of STATUSES) {
    if (other[s] > 0) lines.push(`  ${formatNumber(other[s])} ${s} in smaller groups (not kept)`);
  }
  if (cut) lines.push('  (-o groups lists every group in full, with names)');
  return `${lines.join('\n')}\n`;
}

/** "client: event loop stalled 3x (longest 3,012 ms); 40 checks re-run ...", or undefined when all was well. */
export function formatOverload(o: RunOverload): string | undefined {
  const parts: string[] = [];
  if (o.stalls > 0)
    parts.push(
      `event loop stalled ${formatNumber(o.stalls)}x (longest ${formatNumber(o.longestStallMs)} ms)`,
    );
  if (o.answersReadAfterStall > 0)
    parts.push(`${formatNumber(o.answersReadAfterStall)} answers read after a late deadline timer`);
  if (o.rechecks > 0) parts.push(`${formatNumber(o.rechecks)} checks re-run after a stalled deadline`);
  if (o.overloadErrors > 0) parts.push(`${formatNumber(o.overloadErrors)} client-overload errors`);
  if (o.lowestConcurrency < o.concurrencyCeiling) {
    parts.push(
      `in flight lowered to ${formatNumber(o.lowestConcurrency)} of ${formatNumber(o.concurrencyCeiling)}`,
    );
  }
  return parts.length > 0 ? `  client: ${parts.join('; ')}` : undefined;
}
