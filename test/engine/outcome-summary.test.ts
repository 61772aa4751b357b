import { describe, expect, it } from 'vitest';
import { Ipv4RangeSet } from '../../src/engine/outcome-summary.js';

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
