import { formatNumber } from '../core/text.js';
import { type FailureGroup, groupTitle } from '../engine/failure-groups.js';
import type { OutcomeSummary } from '../engine/outcome-summary.js';
import { STATUSES } from '../engine/result.js';

/** One group in full: `<count> <status> <title>`, then every folded target and every name, nothing cut. */
export function formatGroup(g: FailureGroup): string {
  const lines = [`${formatNumber(g.count)} ${g.status} ${groupTitle(g)}`];
  if (g.messagesVary) lines.push(`  example: ${g.message}`);
  lines.push(`  targets: ${g.targets.join(', ') || '-'}`);
  if (g.names.length > 0) lines.push(`  names: ${g.names.join(', ')}`);
  if (g.unlisted > 0)
    lines.push(`  (${formatNumber(g.unlisted)} more targets or names were counted but not kept)`);
  return `${lines.join('\n')}\n`;
}

/**
 * `fleetprobe run -o groups`: every failure group in full, largest first, with all its folded targets and
 * names (no `(+8 more)`), one blank line between groups; then the failing results that are in no group.
 */
export function formatGroups(summary: OutcomeSummary): string {
  const groups = summary.groups();
  const parts = groups.map(formatGroup);
  const other = summary.other();
  for (const s of STATUSES) {
    if (other[s] > 0)
      parts.push(`${formatNumber(other[s])} ${s} in smaller groups (not kept: too many distinct reasons)\n`);
  }
  if (parts.length === 0) return 'no failure groups: every target passed\n';
  return parts.join('\n');
}
