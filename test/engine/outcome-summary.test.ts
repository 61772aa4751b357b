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
  const result = (target: string, status: Result['status'], message: string, reason?: string): Result => ({
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
    ...(reason === undefined ? {} : { reason }),
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
    expect(groups[0]!.targets).toEqual(['10.1.0.[0-99]']);
    expect(groups[1]!.targets).toEqual(['name.test']);
  });

  it('keeps 150 timeouts with 2 distinct messages as 2 groups, after 200 one-off failures came first', () => {
    const summary = new OutcomeSummary();
    // Arrival order used to decide: 64 early one-off messages took every slot.
    for (let i = 0; i < 200; i++)
      summary.add(result(`10.2.0.${i}`, 'error', `odd failure #${i}`, `odd ${i}`));
    for (let i = 0; i < 150; i++)
      summary.add(result(`10.3.0.${i}`, 'timeout', i % 2 ? 'timeout after 1500 ms' : 'read timeout'));
    const groups = summary.groups();
    expect(groups.slice(0, 2).map((g) => [g.status, g.message, g.count])).toEqual([
      ['timeout', 'read timeout', 75],
      ['timeout', 'timeout after 1500 ms', 75],
    ]);
    expect(groups.some((g) => g.message.includes('other messages'))).toBe(false);
    expect(summary.exact).toBe(true);
  });

  it('folds a dns run with 62 distinct "expected X, got Y" into one group with every name', () => {
    const summary = new OutcomeSummary();
    for (let i = 0; i < 62; i++) {
      summary.add({
        ...result(
          `127.20.2.${i}`,
          'fail',
          `expected 127.20.2.${i}, got 127.255.255.254`,
          'expected <expected>, got <answers>',
        ),
        name: `host-${String(i).padStart(2, '0')}.test`,
      });
    }
    const groups = summary.groups();
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      status: 'fail',
      reason: 'expected <expected>, got <answers>',
      count: 62,
      messagesVary: true,
      targets: ['127.20.2.[0-61]'],
      unlisted: 0,
    });
    expect(groups[0]!.names).toHaveLength(62);
    expect(groups[0]!.names[0]).toBe('host-00.test');
  });

  it('masks addresses and numbers into the reason when a producer gave none', () => {
    const summary = new OutcomeSummary();
    for (let i = 0; i < 30; i++)
      summary.add(result(`10.4.0.${i}`, 'error', `no reply from 10.9.0.${i}:53 after 3 attempts`));
    expect(summary.groups().map((g) => [g.reason, g.count])).toEqual([
      ['no reply from <address> after <n> attempts', 30],
    ]);
  });

  it('chooses groups by count in bounded memory: heavy groups survive a flood of one-off reasons', () => {
    const summary = new OutcomeSummary({ groupCapacity: 16 });
    let heavy = 0;
    for (let i = 0; i < 5000; i++) {
      if (i % 4 === 0) {
        summary.add(result(`10.5.${i >> 8}.${i & 255}`, 'error', 'connect ECONNREFUSED'));
        heavy++;
      } else summary.add(result(`10.6.${i >> 8}.${i & 255}`, 'fail', `unique ${i}`, `unique ${i}`));
    }
    const groups = summary.groups();
    expect(groups.length).toBeLessThanOrEqual(16);
    expect(groups[0]).toMatchObject({ status: 'error', reason: 'connect ECONNREFUSED', count: heavy });
    expect(summary.exact).toBe(false);
    const inGroups = groups.reduce((n, g) => n + g.count, 0);
    const other = summary.other();
    expect(inGroups + other.fail + other.error).toBe(5000); // every failure is counted somewhere
  });
});
