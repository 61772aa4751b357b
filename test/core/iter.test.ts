import { afterEach, describe, expect, it, vi } from 'vitest';
import { Channel } from '../../src/core/channel.js';
import { batch, mapConcurrent, merge } from '../../src/core/iter.js';

/** An async source that records how far it was read and whether it was closed. */
function trackedSource(n: number) {
  const state = { read: 0, closed: false };
  async function* gen() {
    try {
      for (let i = 0; i < n; i++) {
        state.read = i + 1;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, source: gen() };
}

describe('mapConcurrent', () => {
  it('yields in completion order with at most `limit` in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    // 100 ms apart: tasks started a few ms apart on a busy machine still finish in this order.
    const delays = [300, 100, 200, 0];
    const out: number[] = [];
    for await (const v of mapConcurrent(
      delays,
      async (ms) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, ms));
        inFlight--;
        return ms;
      },
      { limit: 4 },
    )) {
      out.push(v);
    }
    expect(out).toEqual([0, 100, 200, 300]);
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('reads the source only as fast as results are consumed', async () => {
    const { state, source } = trackedSource(1_000_000);
    const it = mapConcurrent(source, async (x) => x, { limit: 8 });
    await it.next();
    await new Promise((r) => setImmediate(r));
    expect(state.read).toBeLessThan(100);
    await it.return(undefined);
    expect(state.closed).toBe(true);
  });

  it('breaking out aborts in-flight calls and closes the source', async () => {
    const { state, source } = trackedSource(100);
    const aborted: unknown[] = [];
    let pendingCalls = 0;
    for await (const v of mapConcurrent(
      source,
      (x, signal) =>
        x === 0 || !++pendingCalls
          ? Promise.resolve(x)
          : new Promise<number>((_, reject) =>
              signal.addEventListener('abort', () => {
                aborted.push(signal.reason);
                reject(signal.reason);
              }),
            ),
      { limit: 4 },
    )) {
      expect(v).toBe(0);
      break;
    }
    expect(state.closed).toBe(true);
    expect(pendingCalls).toBeGreaterThan(0);
    expect(aborted.length).toBe(pendingCalls); // every call still running was aborted
  });

  it('rethrows the first error and stops the rest', async () => {
    const seen: number[] = [];
    const run = async () => {
      for await (const _ of mapConcurrent(
        [1, 2, 3, 4, 5],
        async (x, signal) => {
          seen.push(x);
          if (x === 2) throw new Error('two');
          await new Promise((_r, j) => signal.addEventListener('abort', () => j(signal.reason)));
          return x;
        },
        { limit: 2 },
      )) {
        // consume
      }
    };
    await expect(run()).rejects.toThrow('two');
    expect(seen).toEqual([1, 2]);
  });
});

describe('batch', () => {
  afterEach(() => vi.useRealTimers());

  it('groups by size', async () => {
    const out: number[][] = [];
    for await (const b of batch(trackedSource(7).source, { size: 3, maxWaitMs: 1000 })) out.push(b);
    expect(out).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('emits a partial batch when maxWaitMs passes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const ch = new Channel<number>(10);
    const batches = batch(ch, { size: 100, maxWaitMs: 200 });
    await ch.push(1);
    await ch.push(2);
    const first = batches.next();
    await vi.advanceTimersByTimeAsync(199);
    let settled = false;
    void first.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await first).value).toEqual([1, 2]);
    ch.end();
    expect((await batches.next()).done).toBe(true);
  });

  it('closes the source when the consumer stops', async () => {
    const { state, source } = trackedSource(100);
    for await (const b of batch(source, { size: 10, maxWaitMs: 1000 })) {
      expect(b).toHaveLength(10);
      break;
    }
    expect(state.closed).toBe(true);
  });
});

describe('merge', () => {
  it('interleaves sources and closes all on break', async () => {
    const a = trackedSource(5);
    const b = trackedSource(5);
    const seen: number[] = [];
    for await (const v of merge(a.source, b.source)) {
      seen.push(v);
      if (seen.length === 4) break;
    }
    expect(seen).toHaveLength(4);
    expect(a.state.closed && b.state.closed).toBe(true);
  });
});

describe('Channel', () => {
  it('applies backpressure and reports a departed consumer', async () => {
    const ch = new Channel<number>(1);
    expect(await ch.push(1)).toBe(true);
    let second: boolean | undefined;
    const pending = ch.push(2).then((v) => {
      second = v;
    });
    await new Promise((r) => setImmediate(r));
    expect(second).toBeUndefined();
    const it = ch[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(1);
    await pending;
    expect(second).toBe(true);
    await it.return(undefined);
    expect(await ch.push(3)).toBe(false);
  });
});
