import { describe, expect, it } from 'vitest';
import { bucketOf, LATENCY_BUCKETS, percentileOf } from '../../src/model/latency-histogram.js';
import { HOUR_MS, RollupAggregator } from '../../src/monitor/rollup-aggregator.js';

const H0 = Date.UTC(2026, 0, 1, 10);

describe('latency histogram', () => {
  it('puts samples in 1-2-5 buckets and estimates p95 inside the right bucket, clamped to min/max', () => {
    expect([0.3, 1, 1.01, 4.9, 10_000, 10_001].map(bucketOf)).toEqual([0, 0, 1, 2, 12, 13]);
    const b = new Array<number>(LATENCY_BUCKETS).fill(0);
    b[bucketOf(3)] = 95; // 95 samples in (2, 5] ms
    b[bucketOf(700)] = 5; // 5 samples in (500, 1000] ms
    expect(percentileOf(b, 0.95, 2.5, 800)).toBe(5); // the 95th sample is the last of the fast bucket
    const p99 = percentileOf(b, 0.99, 2.5, 800)!;
    expect(p99).toBeGreaterThan(500);
    expect(p99).toBeLessThanOrEqual(800);
    expect(percentileOf(new Array(LATENCY_BUCKETS).fill(0), 0.95, null, null)).toBeNull();
    const open = new Array<number>(LATENCY_BUCKETS).fill(0);
    open[LATENCY_BUCKETS - 1] = 1;
    expect(percentileOf(open, 0.95, 30_000, 30_000)).toBe(30_000);
  });
});

describe('RollupAggregator', () => {
  it('sums per slot and hour, keeps latency for answered results only, drains deltas once', () => {
    const r = new RollupAggregator();
    r.add(0, 'pass', H0 + 1, 4);
    r.add(0, 'fail', H0 + 2, 40);
    r.add(0, 'timeout', H0 + 3, 5000);
    r.add(0, 'cancelled', H0 + 4, 1);
    r.add(1, 'error', H0 + 5, 2);
    r.add(0, 'pass', H0 + HOUR_MS, 6); // next hour
    const out = r.drain();
    expect(out).toEqual([
      {
        slot: 0,
        hourMs: H0,
        pass: 1,
        fail: 1,
        error: 0,
        timeout: 1,
        latN: 2,
        latMinMs: 4,
        latSumMs: 44,
        latMaxMs: 40,
        buckets: expect.any(Array),
      },
      expect.objectContaining({ slot: 1, hourMs: H0, error: 1, latN: 0, latMinMs: null, latMaxMs: null }),
      expect.objectContaining({ slot: 0, hourMs: H0 + HOUR_MS, pass: 1, latN: 1 }),
    ]);
    expect(out[0]!.buckets[bucketOf(4)]).toBe(1);
    expect(out[0]!.buckets[bucketOf(40)]).toBe(1);
    expect(r.empty).toBe(true);
    expect(r.drain()).toEqual([]);
  });

  it('grows past 100,000 slots and forgets a slot whose target left', () => {
    const r = new RollupAggregator();
    for (let slot = 0; slot < 150_000; slot++) r.add(slot, 'pass', H0, 1);
    r.forget(7);
    r.add(7, 'fail', H0, 2); // the slot, reused by a new target
    const out = r.drain();
    expect(out).toHaveLength(150_000);
    expect(out.find((d) => d.slot === 7)).toMatchObject({ pass: 0, fail: 1 });
  });
});
