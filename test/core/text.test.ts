import { describe, expect, it } from 'vitest';
import { formatNumber } from '../../src/core/text.js';

describe('formatNumber', () => {
  const intl = new Intl.NumberFormat('en-US');
  it('formats exactly as Intl.NumberFormat("en-US")', () => {
    const special = [-0, 2 ** 60, 1170.4567, 0.5, -3.0005, 1e21, Number.NaN, Number.POSITIVE_INFINITY];
    const edges = [0, 1, 999, 1000, 1234, 12_345, 123_456, 1_234_567, 20_000, Number.MAX_SAFE_INTEGER];
    const values = [...special, ...edges, ...edges.map((n) => -n)];
    for (let i = 0; i < 2000; i++)
      values.push(Math.floor(Math.random() * 10 ** (1 + (i % 15))) * (i % 2 ? 1 : -1));
    for (const n of values) expect(formatNumber(n), String(n)).toBe(intl.format(n));
  });
});
