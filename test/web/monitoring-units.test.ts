import { describe, expect, it } from 'vitest';
import { HEATMAP_MAX_ROWS, monitorHeatmap } from '../../src/server/routes/monitor-heatmap.js';
// A pure module of the dashboard (no DOM), typed by its .d.ts.
import { timelineSegments } from '../../web/ui/timeline.js';

type State = 'UP' | 'DOWN' | 'UNKNOWN' | 'FLAPPING';
const snap = (state: State, labels: Record<string, string>) => ({ state, labels });

describe('monitorHeatmap', () => {
  it('counts per label value and state, numeric-aware order, targets without the label last', () => {
    const hm = monitorHeatmap(
      'm',
      [
        snap('UP', { rack: '10' }),
        snap('DOWN', { rack: '9' }),
        snap('UP', { rack: '9', pop: 'ams' }),
        snap('FLAPPING', {}),
      ],
      'rack',
    );
    expect(hm).toEqual({
      monitor: 'm',
      by: 'rack',
      keys: ['pop', 'rack'],
      total: 4,
      truncated: false,
      rows: [
        { value: '9', total: 2, states: { UP: 1, DOWN: 1, UNKNOWN: 0, FLAPPING: 0 } },
        { value: '10', total: 1, states: { UP: 1, DOWN: 0, UNKNOWN: 0, FLAPPING: 0 } },
        { value: null, total: 1, states: { UP: 0, DOWN: 0, UNKNOWN: 0, FLAPPING: 1 } },
      ],
    });
  });

  it('without `by` only the keys and the total; more values than the cap are cut and flagged', () => {
    expect(monitorHeatmap('m', [snap('UP', { a: '1' })], undefined)).toMatchObject({
      by: null,
      keys: ['a'],
      total: 1,
      rows: [],
    });
    const many = Array.from({ length: HEATMAP_MAX_ROWS + 5 }, (_, i) => snap('UP', { host: `h${i}` }));
    const hm = monitorHeatmap('m', many, 'host');
    expect(hm.rows).toHaveLength(HEATMAP_MAX_ROWS);
    expect(hm.truncated).toBe(true);
    expect(hm.rows[0]!.value).toBe('h0');
  });
});

describe('timelineSegments', () => {
  const H = 3_600_000;
  const now = Date.parse('2026-11-30T12:00:00Z');
  const at = (msAgo: number) => new Date(now - msAgo).toISOString();
  const t = (msAgo: number, from: State, to: State) => ({ at: at(msAgo), from, to });

  it('starts at the first known transition when the target is younger than the window', () => {
    // newest first, as the API gives them
    const tl = timelineSegments(
      [t(1 * H, 'UP', 'DOWN'), t(3 * H, 'UNKNOWN', 'UP')],
      'DOWN',
      now - 24 * H,
      now,
    );
    expect(tl.fromMs).toBe(now - 3 * H);
    expect(tl.segments).toEqual([
      { state: 'UP', fromMs: now - 3 * H, toMs: now - H },
      { state: 'DOWN', fromMs: now - H, toMs: now },
    ]);
  });

  it('before the window the state is the last older transition`s; no transition: the current state throughout', () => {
    const tl = timelineSegments([t(2 * H, 'DOWN', 'UP'), t(30 * H, 'UP', 'DOWN')], 'UP', now - 24 * H, now);
    expect(tl.fromMs).toBe(now - 24 * H);
    expect(tl.segments).toEqual([
      { state: 'DOWN', fromMs: now - 24 * H, toMs: now - 2 * H },
      { state: 'UP', fromMs: now - 2 * H, toMs: now },
    ]);
    expect(timelineSegments([], 'FLAPPING', now - H, now).segments).toEqual([
      { state: 'FLAPPING', fromMs: now - H, toMs: now },
    ]);
  });
});
