import type { FastifyPluginAsync } from 'fastify';
import * as z from 'zod';
import { TARGET_STATES, type TargetState } from '../../model/monitor-spec.js';
import { monitorParams } from '../monitor-request.js';
import type { ServerMonitors } from '../server-monitors.js';
import { parseOr400 } from '../validate.js';

/** Label values shown per heatmap at most; a label with more distinct values is cut (`truncated: true`). */
export const HEATMAP_MAX_ROWS = 500;

/** GET /monitors/:name/heatmap */
export const heatmapQuery = z
  .object({
    by: z
      .string()
      .regex(/^[A-Za-z0-9_.\-/]{1,100}$/, 'expected a label key')
      .optional()
      .describe('label key to count by (e.g. pop); absent: only the label keys and totals'),
  })
  .strict();

/** One label value's row: target counts per state. `value` null = targets without that label. */
export interface HeatmapRow {
  readonly value: string | null;
  readonly total: number;
  readonly states: Record<TargetState, number>;
}

export interface Heatmap {
  readonly monitor: string;
  readonly by: string | null;
  /** Every label key the monitor's targets carry, sorted: the choices for `by`. */
  readonly keys: string[];
  readonly total: number;
  /** Sorted by value (numeric-aware), targets without the label last; at most HEATMAP_MAX_ROWS. */
  readonly rows: HeatmapRow[];
  readonly truncated: boolean;
}

const emptyStates = (): Record<TargetState, number> =>
  Object.fromEntries(TARGET_STATES.map((s) => [s, 0])) as Record<TargetState, number>;
const collator = new Intl.Collator('en', { numeric: true });

/**
 * Counts a monitor's current target states by the value of one label, from the runtime's committed states in
 * memory (no store query: one pass over the targets, fast enough for hundreds of thousands).
 */
export function monitorHeatmap(
  monitor: string,
  snapshots: Iterable<{ labels: Readonly<Record<string, string>>; state: TargetState }>,
  by: string | undefined,
): Heatmap {
  const keys = new Set<string>();
  const rows = new Map<string | null, HeatmapRow>();
  let total = 0;
  for (const s of snapshots) {
    total++;
    for (const k of Object.keys(s.labels)) keys.add(k);
    if (by === undefined) continue;
    const value = s.labels[by] ?? null;
    let row = rows.get(value);
    if (!row) {
      row = { value, total: 0, states: emptyStates() };
      rows.set(value, row);
    }
    (row as { total: number }).total++;
    row.states[s.state]++;
  }
  const sorted = [...rows.values()].sort((a, b) =>
    a.value === null ? 1 : b.value === null ? -1 : collator.compare(a.value, b.value),
  );
  return {
    monitor,
    by: by ?? null,
    keys: [...keys].sort(collator.compare),
    total,
    rows: sorted.slice(0, HEATMAP_MAX_ROWS),
    truncated: sorted.length > HEATMAP_MAX_ROWS,
  };
}

export interface MonitorHeatmapRoutesOptions {
  monitors: ServerMonitors;
}

/** GET /api/v1/monitors/:name/heatmap?by=<label>: target counts per state for each value of a label. */
export const monitorHeatmapRoutes: FastifyPluginAsync<MonitorHeatmapRoutesOptions> = async (app, opts) => {
  app.get('/monitors/:name/heatmap', { config: { role: 'read' } }, async (req) => {
    const { name } = parseOr400(monitorParams, req.params, 'params');
    const { by } = parseOr400(heatmapQuery, req.query ?? {}, 'query');
    opts.monitors.mustGet(name);
    return monitorHeatmap(name, opts.monitors.manager.runtime(name)?.snapshots() ?? [], by);
  });
};
