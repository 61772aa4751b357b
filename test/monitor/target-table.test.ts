import { describe, expect, it } from 'vitest';
import type { Result, Status } from '../../src/engine/result.js';
import { policyOf } from '../../src/monitor/state-machine.js';
import { TargetTable } from '../../src/monitor/target-table.js';

const policy = policyOf({ downAfter: 2, upAfter: 1 });
const T0 = Date.UTC(2026, 0, 1);

function res(run: string, i: number, status: Status, round: number): Result {
  return {
    run,
    target: `127.0.0.${i}`,
    port: 80,
    name: null,
    labels: { rack: String(i % 2) },
    check: 'tcp',
    status,
    durationMs: 2,
    startedAt: new Date(T0 + round * 60_000 + i).toISOString(),
    attempts: 1,
    message: `${status} #${round}`,
    data: {},
  };
}

/** Feeds one round (statuses per target index) and commits or discards it. */
function round(t: TargetTable, n: number, statuses: Status[], commit = true) {
  const run = `run-${n}`;
  for (const [i, s] of statuses.entries()) t.observe(res(run, i, s, n), policy);
  if (!commit) {
    t.discard();
    return undefined;
  }
  return t.commit(policy);
}

describe('TargetTable', () => {
  it('records each transition with the result that caused it, and a discarded round changes nothing', () => {
    const t = new TargetTable(4);
    expect(round(t, 1, ['pass', 'fail'])!.transitions.map((x) => [x.target, x.from, x.to])).toEqual([
      ['127.0.0.0', 'UNKNOWN', 'UP'],
    ]);
    const before = [...t.snapshots()];
    // An interrupted round with failures for target 0: buffered, then discarded -> no transition, same states.
    expect(round(t, 2, ['fail', 'fail'], false)).toBeUndefined();
    expect([...t.snapshots()]).toEqual(before);
    const r3 = round(t, 3, ['fail', 'fail'])!;
    expect(r3.transitions.map((x) => [x.target, x.from, x.to])).toEqual([['127.0.0.1', 'UNKNOWN', 'DOWN']]);
    const r4 = round(t, 4, ['fail', 'pass'])!;
    expect(r4.transitions).toEqual([
      {
        target: '127.0.0.0',
        port: 80,
        atMs: T0 + 4 * 60_000,
        from: 'UP',
        to: 'DOWN',
        run: 'run-4',
        status: 'fail',
        message: 'fail #4',
      },
      {
        target: '127.0.0.1',
        port: 80,
        atMs: T0 + 4 * 60_000 + 1,
        from: 'DOWN',
        to: 'UP',
        run: 'run-4',
        status: 'pass',
        message: 'pass #4',
      },
    ]);
    const s0 = t.snapshot(t.slotOf('127.0.0.0', 80)!);
    expect(s0).toMatchObject({
      state: 'DOWN',
      sinceMs: T0 + 4 * 60_000,
      lastStatus: 'fail',
      lastRun: 'run-4',
      streak: 2,
    });
  });

  it('ignores cancelled results and a duplicate result in one round; drops targets a done round no longer lists', () => {
    const t = new TargetTable();
    round(t, 1, ['pass', 'pass', 'pass']);
    t.observe(res('run-2', 0, 'cancelled', 2), policy);
    t.observe(res('run-2', 1, 'fail', 2), policy);
    t.observe(res('run-2', 1, 'pass', 2), policy); // second result for the same target: ignored
    expect(t.pendingCount).toBe(1);
    const out = t.commit(policy);
    // Target 0 had only a cancelled result and target 2 none: both are gone from the inventory's view.
    expect(out.removed.map((r) => r.target).sort()).toEqual(['127.0.0.0', '127.0.0.2']);
    expect([...t.snapshots()].map((s) => [s.target, s.lastStatus])).toEqual([['127.0.0.1', 'fail']]);
  });

  it('forgets targets first seen in a discarded round', () => {
    const t = new TargetTable();
    round(t, 1, ['pass']);
    round(t, 2, ['pass', 'pass', 'pass'], false);
    expect(t.size).toBe(1);
  });

  it('grows past its initial capacity and reuses freed slots', () => {
    const t = new TargetTable(16);
    round(
      t,
      1,
      Array.from({ length: 200 }, () => 'pass' as const),
    );
    expect(t.size).toBe(200);
    round(
      t,
      2,
      Array.from({ length: 100 }, () => 'fail' as const),
    );
    expect(t.size).toBe(100);
    round(
      t,
      3,
      Array.from({ length: 150 }, () => 'fail' as const),
    );
    expect(t.countByState()).toEqual({ UP: 0, DOWN: 100, UNKNOWN: 50, FLAPPING: 0 });
  });
});
