import { describe, expect, it } from 'vitest';
import { GrantClock } from '../../src/distributed/rate.js';

// The clock that RateGrantServer (and the thread executor) answer from; the NATS path runs in rate-and-lease.

describe('rate grants: one reservation clock per run', () => {
  it('hands out disjoint windows of 100 ms of the rate, back to back under demand', () => {
    const bucket = new GrantClock(200);
    const a = bucket.reserve(1000);
    const b = bucket.reserve(1000); // a second worker asking at the same moment waits for a's window
    const c = bucket.reserve(1050);
    expect(a).toEqual({ v: 1, count: 20, startInMs: 0, intervalMs: 5 });
    expect(b.startInMs).toBe(100);
    expect(c.startInMs).toBe(150); // 1050 + 150 = 1200: right after b's window
    // Starts over the three grants: 60 in 300 ms = the rate, whatever the number of workers.
  });

  it('does not bank an idle period as a burst, and grants at least one start at very low rates', () => {
    const bucket = new GrantClock(0.5);
    expect(bucket.reserve(0)).toMatchObject({ count: 1, startInMs: 0, intervalMs: 2000 });
    expect(bucket.reserve(0).startInMs).toBe(2000);
    expect(bucket.reserve(60_000).startInMs).toBe(0); // idle for a minute: still one start, now
    expect(bucket.reserve(60_000).startInMs).toBe(2000);
  });
});
