import { describe, expect, it } from 'vitest';
import { Ipv4RangeSet, OutcomeSummary } from '../../src/engine/outcome-summary.js';
import type { Result } from '../../src/engine/result.js';

describe('Ipv4RangeSet', () => {
  it('merges out-of-order additions', () => {
    const set = new Ipv4RangeSet();
    for (const n of [5, 3, 4, 10, 1, 2, 11]) set.add(n);
    expect(set.ranges()).toEqual([
      [1, 5],
      [10, 11],
    ]);
    expect(set.size).toBe(7);
  });
  it('stays small for a million addresses arriving nearly in order', () => {
    const set = new Ipv4RangeSet();
    for (let i = 0; i < 1_000_000; i += 2) {
      set.add(i + 1);
      set.add(i);
    }
    expect(set.ranges()).toEqual([[0, 999_999]]);
  });
});

describe('OutcomeSummary', () => {
  const result = (target: string, status: Result['status'], message: string): Result => ({
    run: 'r',
    target,
    port: null,
    name: null,
    labels: {},
    check: 'dns',
    status,
    durationMs: 1,
    startedAt: '',
    attempts: 1,
    message,
    data: {},
  });

  it('folds identical outcomes and is not crowded out by unique pass messages', () => {
    const summary = new OutcomeSummary();
    for (let i = 0; i < 1000; i++)
      summary.add(result(`10.0.${i >> 8}.${i & 255}`, 'pass', `NOERROR A 10.9.9.${i}`));
    for (let i = 0; i < 100; i++) summary.add(result(`10.1.0.${i}`, 'fail', 'NXDOMAIN'));
    summary.add(result('name.test', 'error', 'SERVFAIL'));
    expect(summary.counts).toMatchObject({ pass: 1000, fail: 100, error: 1 });
    expect(summary.total).toBe(1101);
    const groups = summary.groups();
    expect(groups.map((g) => [g.status, g.message, g.count])).toEqual([
      ['fail', 'NXDOMAIN', 100],
      ['error', 'SERVFAIL', 1],
    ]);
    expect(groups[0]!.ipv4.ranges()).toHaveLength(1);
    expect(groups[1]!.others).toEqual(['name.test']);
  });
});
