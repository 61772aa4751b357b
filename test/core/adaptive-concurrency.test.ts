import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ADAPT_INTERVAL_MS, AdaptiveConcurrency } from '../../src/core/adaptive-concurrency.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A controller whose event-loop delay is scripted: `lag.value` is what the next look reads. */
function controller(ceiling: number) {
  const lag = { value: 0 };
  const changes: number[] = [];
  const c = new AdaptiveConcurrency({
    ceiling,
    highLagMs: 100,
    lagMs: () => lag.value,
    onChange: (limit) => changes.push(limit),
  });
  c.start();
  return { c, lag, changes };
}

describe('AdaptiveConcurrency', () => {
  it('starts at the ceiling and stays there while the loop keeps up', async () => {
    const { c, changes } = controller(1000);
    await vi.advanceTimersByTimeAsync(10 * ADAPT_INTERVAL_MS);
    expect(c.limit).toBe(1000);
    expect(changes).toEqual([]);
    c.stop();
  });

  it('cuts to 70% per look while the loop lags, never below the floor', async () => {
    const { c, lag, changes } = controller(1000);
    lag.value = 150;
    await vi.advanceTimersByTimeAsync(3 * ADAPT_INTERVAL_MS);
    expect(changes).toEqual([700, 490, 343]);
    await vi.advanceTimersByTimeAsync(50 * ADAPT_INTERVAL_MS);
    expect(c.limit).toBe(16);
    expect(c.lowest).toBe(16);
    c.stop();
  });

  it('holds between half and all of highLagMs, and grows by a twentieth of the ceiling on recovery', async () => {
    const { c, lag, changes } = controller(1000);
    lag.value = 150;
    await vi.advanceTimersByTimeAsync(2 * ADAPT_INTERVAL_MS);
    expect(c.limit).toBe(490);
    lag.value = 70; // neither lagging nor clearly recovered
    await vi.advanceTimersByTimeAsync(4 * ADAPT_INTERVAL_MS);
    expect(c.limit).toBe(490);
    lag.value = 10;
    await vi.advanceTimersByTimeAsync(2 * ADAPT_INTERVAL_MS);
    expect(c.limit).toBe(590);
    await vi.advanceTimersByTimeAsync(20 * ADAPT_INTERVAL_MS);
    expect(c.limit).toBe(1000); // the ceiling (-c) is never passed
    expect(changes.at(-1)).toBe(1000);
    expect(c.lowest).toBe(490);
    c.stop();
  });

  it('does nothing when floor and ceiling meet', async () => {
    const { c, lag, changes } = controller(8);
    lag.value = 1000;
    await vi.advanceTimersByTimeAsync(10 * ADAPT_INTERVAL_MS);
    expect(c.limit).toBe(8);
    expect(changes).toEqual([]);
    c.stop();
  });
});
