import type { RoundSnapshot, TargetStatus } from '../../src/alerts/types.js';
import type { TargetState } from '../../src/model/monitor-spec.js';

export const T0 = Date.parse('2026-11-30T10:00:00.000Z');

/** `n` targets 127.20.0.0, .1, ... UP since T0, with labels from `labelsOf(i)`. */
export function fleet(
  n: number,
  labelsOf: (i: number) => Record<string, string> = () => ({}),
): TargetStatus[] {
  return Array.from({ length: n }, (_, i) => ({
    target: `127.20.${i >> 8}.${i & 255}`,
    port: 80,
    name: null,
    labels: labelsOf(i),
    state: 'UP' as TargetState,
    sinceMs: T0,
    last: { status: 'pass', durationMs: 5, message: '200 OK', data: {} },
  }));
}

/** Copies of `targets` where those picked by `pick` are DOWN since `sinceMs`. */
export function breakWhere(
  targets: readonly TargetStatus[],
  pick: (t: TargetStatus, i: number) => boolean,
  sinceMs: number,
  state: TargetState = 'DOWN',
): TargetStatus[] {
  return targets.map((t, i) =>
    pick(t, i)
      ? {
          ...t,
          state,
          sinceMs,
          last: { status: 'error', durationMs: 3, message: 'connection refused', data: {} },
        }
      : t,
  );
}

export function snapshot(targets: readonly TargetStatus[], atMs: number, monitor = 'edge'): RoundSnapshot {
  return { monitor, monitorLabels: { team: 'cdn' }, atMs, targets };
}

/** Half the fleet in pop=waw (the first 50), half in pop=fra. */
export const popOf = (i: number): Record<string, string> => ({ pop: i < 50 ? 'waw' : 'fra' });
