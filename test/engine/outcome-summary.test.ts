import { describe, expect, it } from 'vitest';
import { formatIpv4Ranges, Ipv4RangeSet } from '../../src/engine/outcome-summary.js';

const ip = (s: string) => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);

describe('formatIpv4Ranges', () => {
  it('folds aligned blocks into CIDRs and leftovers into bracket ranges', () => {
    expect(
      formatIpv4Ranges([
        [ip('127.20.3.0'), ip('127.20.3.127')],
        [ip('127.20.4.1'), ip('127.20.4.60')],
      ]),
    ).toEqual(['127.20.3.0/25', '127.20.4.[1-60]']);
  });
  it('lists scattered addresses of one /24 in one bracket', () => {
    expect(
      formatIpv4Ranges([
        [ip('10.0.0.1'), ip('10.0.0.2')],
        [ip('10.0.0.7'), ip('10.0.0.7')],
      ]),
    ).toEqual(['10.0.0.[1-2,7]']);
  });
  it('keeps a partial /24 with a hole as one bracket list', () => {
    expect(formatIpv4Ranges([[ip('10.0.0.0'), ip('10.0.1.9')]])).toEqual(['10.0.0.0/24', '10.0.1.[0-9]']);
  });
  it('folds a whole /12 into one block', () => {
    expect(formatIpv4Ranges([[ip('127.64.0.0'), ip('127.79.255.255')]])).toEqual(['127.64.0.0/12']);
  });
});

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
