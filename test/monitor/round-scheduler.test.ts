import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { paceTargets, startOffsetMs } from '../../src/monitor/pace.js';
import { RoundScheduler } from '../../src/monitor/round-scheduler.js';

const T0 = Date.UTC(2026, 0, 1);

async function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

/** A fake-time wait that the round under test can use as its "work". */
const work = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

describe('round scheduling (fake time)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spreads target starts evenly over spreadMs: no thundering herd at :00', async () => {
    expect(startOffsetMs(3, 10, 9000)).toBe(2700);
    const yieldedAt: number[] = [];
    const consume = (async () => {
      for await (const _ of paceTargets(numbers(12), {
        expectedCount: 10,
        spreadMs: 9000,
        startedAtMs: T0,
        signal: new AbortController().signal,
      })) {
        yieldedAt.push(Date.now() - T0);
      }
    })();
    await vi.advanceTimersByTimeAsync(10_000);
    await consume;
    // 10 expected targets at 0, 900, ... 8100; the 2 the fleet grew by start as soon as they come.
    expect(yieldedAt).toEqual([0, 900, 1800, 2700, 3600, 4500, 5400, 6300, 7200, 8100, 9000, 9000]);
  });

  it('stops pacing with the abort reason', async () => {
    const ac = new AbortController();
    const it = paceTargets(numbers(10), {
      expectedCount: 10,
      spreadMs: 10_000,
      startedAtMs: T0,
      signal: ac.signal,
    });
    expect((await it.next()).value).toBe(0);
    const next = it.next();
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(next).rejects.toBe(reason);
  });

  it('starts a round every interval on a fixed grid, whatever the rounds take', async () => {
    const starts: number[] = [];
    const s = new RoundScheduler({
      intervalMs: 60_000,
      runRound: async (tick, signal) => {
        starts.push(Date.now() - T0);
        expect(tick.dueAtMs).toBe(T0 + (tick.seq - 1) * 60_000);
        await work(7_000 * tick.seq, signal); // 7 s, 14 s, 21 s...: never shifts the grid
      },
    });
    await vi.advanceTimersByTimeAsync(240_000);
    expect(starts).toEqual([0, 60_000, 120_000, 180_000, 240_000]);
    expect(s.skipped).toBe(0);
    await s.stop();
  });

  it('skips (and counts) a round due while the previous one still runs, instead of piling it up', async () => {
    const starts: number[] = [];
    const skips: number[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const s = new RoundScheduler({
      intervalMs: 10_000,
      onSkip: (due) => skips.push(due - T0),
      runRound: async (_tick, signal) => {
        starts.push(Date.now() - T0);
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        try {
          await work(15_000, signal); // 1.5 intervals
        } finally {
          concurrent--;
        }
      },
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(starts).toEqual([0, 20_000, 40_000, 60_000]);
    expect(skips).toEqual([10_000, 30_000, 50_000]);
    expect(s.skipped).toBe(3);
    expect(maxConcurrent).toBe(1);
    await s.stop();
  });

  it('pauses (a running round finishes, no new one starts) and resumes no sooner than one interval after the last start', async () => {
    const starts: number[] = [];
    let finished = 0;
    const s = new RoundScheduler({
      intervalMs: 10_000,
      runRound: async (_t, signal) => {
        starts.push(Date.now() - T0);
        await work(3_000, signal);
        finished++;
      },
    });
    await vi.advanceTimersByTimeAsync(1_000);
    s.pause();
    expect(s.nextDueAtMs).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(starts).toEqual([0]);
    expect(finished).toBe(1);
    s.resume(); // 61 s after the last start: at once
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toEqual([0, 61_000]);
    await vi.advanceTimersByTimeAsync(4_000);
    s.pause();
    s.resume(); // only 4 s after the last start: waits for 71 s
    expect(s.nextDueAtMs).toBe(T0 + 71_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starts).toEqual([0, 61_000, 71_000]);
    await s.stop();
  });

  it('takes a new interval from the next round on (reload), and stop() aborts the running round', async () => {
    const starts: number[] = [];
    let aborted: unknown;
    const s = new RoundScheduler({
      intervalMs: 10_000,
      runRound: async (_t, signal) => {
        starts.push(Date.now() - T0);
        await work(2_000, signal).catch((err) => {
          aborted = err;
        });
      },
    });
    await vi.advanceTimersByTimeAsync(15_000);
    s.setIntervalMs(30_000); // last start at 10 s -> next at 40 s
    await vi.advanceTimersByTimeAsync(60_000);
    expect(starts).toEqual([0, 10_000, 40_000, 70_000]);
    await vi.advanceTimersByTimeAsync(25_000); // 100 s: a round starts and is running
    const reason = new Error('shutdown');
    const stopped = s.stop(reason);
    await stopped;
    expect(aborted).toBe(reason);
    expect(s.running).toBe(false);
    expect(s.nextDueAtMs).toBeUndefined();
  });

  it('counts several grid points missed at once (a blocked loop) as skips', async () => {
    const starts: number[] = [];
    let jumpMs = 0; // the clock the scheduler reads jumps ahead: the loop was blocked
    const now = () => Date.now() + jumpMs;
    const s = new RoundScheduler({
      intervalMs: 1_000,
      firstDueAtMs: T0 + 5_000,
      now,
      runRound: async () => {
        starts.push(now() - T0);
      },
    });
    await vi.advanceTimersByTimeAsync(4_999);
    jumpMs = 3_500;
    await vi.advanceTimersByTimeAsync(1); // the round due at 5 s starts at 8.5 s
    expect(starts).toEqual([8_500]);
    expect(s.skipped).toBe(3); // 6 s, 7 s and 8 s were missed
    expect(s.nextDueAtMs).toBe(T0 + 9_000);
    await vi.advanceTimersByTimeAsync(500);
    expect(starts).toEqual([8_500, 9_000]);
    await s.stop();
  });
});
