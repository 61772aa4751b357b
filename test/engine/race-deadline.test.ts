import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Observation } from '../../src/checks/check.js';
import { createDeadline, type Deadline } from '../../src/core/deadline.js';
import { CancelledError, DeadlineError, isFleetprobeError } from '../../src/core/errors.js';
import {
  LateResultError,
  raceDeadline as raceDeadlineTo,
  SETTLE_GRACE_MS,
} from '../../src/engine/race-deadline.js';

/** Time is the subject: fake timers (and a fake Date, which the deadline's `at` is measured in). */
/** The deadline aborts one loop turn after its timer (a `setImmediate`): 1 ms in fake time. */
const TURN_MS = 1;
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The engine's `raceDeadline` as a promise: settled with its one callback. */
function raceDeadline(
  run: () => Promise<Observation>,
  deadline: Deadline,
  checkName: string,
): Promise<Observation> {
  return new Promise<Observation>((resolve, reject) => {
    raceDeadlineTo(run, deadline, checkName, (err, observation) => {
      if (observation !== undefined) resolve(observation);
      else reject(err);
    });
  });
}

/** Settles `promise` into a plain outcome without ever leaving a rejection unhandled. */
function outcome<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

describe('raceDeadline', () => {
  it('abandons a check that never settles SETTLE_GRACE_MS after its deadline, with the DeadlineError', async () => {
    const d = createDeadline(500);
    const o = outcome(raceDeadline(() => new Promise<Observation>(() => {}), d, 'x'));
    await vi.advanceTimersByTimeAsync(500 + TURN_MS + SETTLE_GRACE_MS - 1);
    expect(o.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(o.error).toBeInstanceOf(DeadlineError);
    d.dispose();
  });

  it('keeps the answer of a check that decides at its deadline (within the grace)', async () => {
    const d = createDeadline(500);
    const run = () =>
      new Promise<Observation>((resolve) =>
        d.signal.addEventListener('abort', () => resolve({ status: 'pass', message: 'stream alive' })),
      );
    const o = outcome(raceDeadline(run, d, 'x'));
    await vi.advanceTimersByTimeAsync(500 + TURN_MS);
    expect(o.value).toEqual({ status: 'pass', message: 'stream alive' });
    d.dispose();
  });

  it('abandons on cancel with the cancel reason', async () => {
    const parent = new AbortController();
    const d = createDeadline(10_000, parent.signal);
    const o = outcome(raceDeadline(() => new Promise<Observation>(() => {}), d, 'x'));
    parent.abort(new CancelledError());
    await vi.advanceTimersByTimeAsync(SETTLE_GRACE_MS);
    expect(o.error).toBeInstanceOf(CancelledError);
    d.dispose();
  });

  it('turns a pass returned after the deadline, before its timer could fire, into a LateResultError', async () => {
    const d = createDeadline(500);
    const run = async () => {
      vi.setSystemTime(Date.now() + 1_500); // what a synchronous 1.5 s loop looks like to the clock
      return { status: 'pass', message: 'blocked' } as Observation;
    };
    const o = outcome(raceDeadline(run, d, 'x'));
    await vi.advanceTimersByTimeAsync(0);
    expect(o.error).toBeInstanceOf(LateResultError);
    expect(o.error).toBeInstanceOf(DeadlineError); // so the engine records `timeout`
    expect((o.error as LateResultError).lateMs).toBe(1_000);
    d.dispose();
  });

  it('keeps an answer read between the deadline timer (run late: the loop was blocked) and its verdict', async () => {
    const d = createDeadline(500);
    // Registered after the deadline's timer with the same due time: it runs in the same timers phase,
    // after it, like a socket read in the poll phase that follows. The clock shows the stall.
    const run = () =>
      new Promise<Observation>((resolve) =>
        setTimeout(() => {
          vi.setSystemTime(Date.now() + 1_500);
          resolve({ status: 'pass', message: 'was waiting' });
        }, 500),
      );
    const o = outcome(raceDeadline(run, d, 'x'));
    await vi.advanceTimersByTimeAsync(500 + TURN_MS);
    expect(o.value).toEqual({ status: 'pass', message: 'was waiting' });
    expect(d.timerLateMs).toBe(0);
    d.dispose();
  });

  it('rejects a malformed observation with FP_BAD_OBSERVATION naming the fields', async () => {
    const d = createDeadline(500);
    const run = async () => ({ status: 'weird', message: 42 }) as unknown as Observation;
    const o = outcome(raceDeadline(run, d, 'x'));
    await vi.advanceTimersByTimeAsync(0);
    expect(isFleetprobeError(o.error, 'FP_BAD_OBSERVATION')).toBe(true);
    expect((o.error as Error).message).toMatch(/status.*"weird".*message.*42/);
    d.dispose();
  });

  it('turns a synchronous throw of run() into a rejection', async () => {
    const d = createDeadline(500);
    const o = outcome(
      raceDeadline(
        () => {
          throw new Error('sync');
        },
        d,
        'x',
      ),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect((o.error as Error).message).toBe('sync');
    d.dispose();
  });
});
