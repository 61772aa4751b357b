import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CancelledError, CloseTimeoutError, SchedulerClosedError } from '../../src/core/errors.js';
import { Scheduler } from '../../src/core/scheduler.js';

/** A job whose completion the test controls. */
function gate<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('Scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at most `limit` jobs at once', async () => {
    const s = new Scheduler({ limit: 2, pendingLimit: 10 });
    const gates = [gate(), gate(), gate(), gate()];
    let running = 0;
    let peak = 0;
    const dones = [];
    for (const g of gates) {
      const { done } = await s.spawn(async () => {
        running++;
        peak = Math.max(peak, running);
        await g.promise;
        running--;
      });
      dones.push(done);
    }
    expect(s.running).toBe(2);
    expect(s.pending).toBe(2);
    for (const g of gates) g.resolve();
    await Promise.all(dones);
    expect(peak).toBe(2);
    expect(await s.close()).toBeUndefined();
  });

  it('makes spawn() wait while pendingLimit jobs are queued (backpressure)', async () => {
    const s = new Scheduler({ limit: 1, pendingLimit: 1 });
    const first = gate();
    await s.spawn(() => first.promise);
    await s.spawn(async () => {}); // queued: the queue is now full
    let thirdAccepted = false;
    const third = s
      .spawn(async () => {})
      .then(() => {
        thirdAccepted = true;
      });
    await flush();
    expect(thirdAccepted).toBe(false);
    first.resolve();
    await third;
    expect(thirdAccepted).toBe(true);
    await s.close();
  });

  it('with pendingLimit 0, spawn waits for a free slot', async () => {
    const s = new Scheduler({ limit: 1, pendingLimit: 0 });
    const first = gate();
    await s.spawn(() => first.promise);
    let accepted = false;
    const second = s
      .spawn(async () => {})
      .then(() => {
        accepted = true;
      });
    await flush();
    expect(accepted).toBe(false);
    expect(s.pending).toBe(0);
    first.resolve();
    await second;
    expect(accepted).toBe(true);
    await s.close();
  });

  it('reports job errors through close() instead of losing them', async () => {
    const s = new Scheduler({ limit: 2 });
    await s.spawn(async () => {
      throw new Error('boom');
    });
    await s.spawn(async () => 1);
    const result = await s.close();
    expect(result).toBeInstanceOf(AggregateError);
    expect(result?.errors.map((e: Error) => e.message)).toEqual(['boom']);
  });

  it('passes job errors to onError when given', async () => {
    const errors: unknown[] = [];
    const s = new Scheduler({ limit: 1, onError: (e) => errors.push(e) });
    const { done } = await s.spawn(async () => {
      throw new Error('x');
    });
    await expect(done).rejects.toThrow('x');
    expect(await s.close()).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('close({timeout}) lets jobs finish, then aborts the rest with CloseTimeoutError', async () => {
    const s = new Scheduler({ limit: 1, pendingLimit: 5 });
    let sawReason: unknown;
    const { done: stubborn } = await s.spawn(
      (signal) =>
        new Promise<void>((_, reject) => {
          signal.addEventListener('abort', () => {
            sawReason = signal.reason;
            reject(signal.reason);
          });
        }),
    );
    const { done: queued } = await s.spawn(async () => 'never');
    const closing = s.close({ timeout: 5000 });
    await expect(s.spawn(async () => {})).rejects.toBeInstanceOf(SchedulerClosedError);
    await vi.advanceTimersByTimeAsync(4999);
    expect(sawReason).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(sawReason).toBeInstanceOf(CloseTimeoutError);
    await expect(stubborn).rejects.toBeInstanceOf(CloseTimeoutError);
    await expect(queued).rejects.toBeInstanceOf(CloseTimeoutError);
    expect(await closing).toBeUndefined(); // aborted-by-close jobs are expected, not reported failures
  });

  it('close() without timeout waits for every job', async () => {
    const s = new Scheduler({ limit: 1, pendingLimit: 5 });
    const g = gate();
    let finished = 0;
    await s.spawn(async () => {
      await g.promise;
      finished++;
    });
    await s.spawn(async () => {
      finished++;
    });
    const closing = s.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(finished).toBe(0);
    g.resolve();
    await closing;
    expect(finished).toBe(2);
  });

  it('destroy() rejects queued jobs and aborts running ones; waiting spawners are released', async () => {
    const s = new Scheduler({ limit: 1, pendingLimit: 1 });
    const { done: running } = await s.spawn(
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    const { done: queued } = await s.spawn(async () => 1);
    const waiting = s.spawn(async () => 2);
    s.destroy();
    await expect(running).rejects.toBeInstanceOf(CancelledError);
    await expect(queued).rejects.toBeInstanceOf(CancelledError);
    await expect(waiting).rejects.toBeInstanceOf(SchedulerClosedError);
    await s.onIdle();
    expect(s.running).toBe(0);
  });

  it('a parent signal destroys the scheduler with its reason', async () => {
    const parent = new AbortController();
    const s = new Scheduler({ limit: 1, signal: parent.signal });
    const { done } = await s.spawn(
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    const reason = new Error('stop');
    parent.abort(reason);
    await expect(done).rejects.toBe(reason);
  });

  it('a job that throws synchronously is reported, not thrown from spawn', async () => {
    const s = new Scheduler({ limit: 1 });
    const { done } = await s.spawn((() => {
      throw new Error('sync');
    }) as never);
    await expect(done).rejects.toThrow('sync');
    expect((await s.close())?.errors).toHaveLength(1);
  });

  it('setLimit: lowering lets running jobs finish and starts no more; raising starts queued jobs at once', async () => {
    const s = new Scheduler({ limit: 4, pendingLimit: 10 });
    const gates = Array.from({ length: 8 }, () => gate());
    const dones = [];
    for (const g of gates) dones.push((await s.spawn(() => g.promise)).done);
    expect(s.running).toBe(4);
    s.setLimit(2);
    expect(s.running).toBe(4); // never stops a running job
    gates[0]!.resolve();
    gates[1]!.resolve();
    gates[2]!.resolve();
    await flush();
    expect(s.running).toBe(2); // 4 - 3 finished + 1 started: back at the new limit
    expect(s.pending).toBe(3);
    s.setLimit(5);
    expect(s.running).toBe(5);
    expect(s.pending).toBe(0);
    expect(s.limit).toBe(5);
    for (const g of gates) g.resolve();
    await Promise.all(dones);
    expect(() => s.setLimit(0)).toThrow(RangeError);
    expect(await s.close()).toBeUndefined();
  });

  it('rejects bad limits', () => {
    expect(() => new Scheduler({ limit: 0 })).toThrow(RangeError);
    expect(() => new Scheduler({ limit: 1, pendingLimit: -1 })).toThrow(RangeError);
  });
});
