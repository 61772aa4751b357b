import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDeadline, DeadlineGroup } from '../../src/core/deadline.js';
import { CancelledError, DeadlineError } from '../../src/core/errors.js';

describe('deadlines', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('fires with a DeadlineError naming its timeout', async () => {
    const d = createDeadline(500);
    await vi.advanceTimersByTimeAsync(499);
    expect(d.signal.aborted).toBe(false);
    expect(d.remainingMs()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(d.signal.reason).toBeInstanceOf(DeadlineError);
    expect((d.signal.reason as DeadlineError).timeoutMs).toBe(500);
  });

  it('follows its parent, with the parent reason, and dispose stops both', async () => {
    const parent = new AbortController();
    const d = createDeadline(500, parent.signal);
    const reason = new CancelledError();
    parent.abort(reason);
    expect(d.signal.reason).toBe(reason);
    const disposed = createDeadline(500, new AbortController().signal);
    disposed.dispose();
    await vi.advanceTimersByTimeAsync(1000);
    expect(disposed.signal.aborted).toBe(false);
  });

  it('a group keeps one parent listener for any number of deadlines', async () => {
    const parent = new AbortController();
    const add = vi.spyOn(parent.signal, 'addEventListener');
    const group = new DeadlineGroup(parent.signal);
    const many = Array.from({ length: 100 }, () => group.create(10_000));
    const finished = many.slice(0, 50);
    for (const d of finished) d.dispose();
    expect(add).toHaveBeenCalledTimes(1);
    parent.abort(new CancelledError());
    expect(many.slice(50).every((d) => d.signal.reason instanceof CancelledError)).toBe(true);
    expect(finished.some((d) => d.signal.aborted)).toBe(false); // disposed ones no longer follow
    expect(group.create(10).signal.aborted).toBe(true); // created after the abort: aborted at once
    group.dispose();
  });

  it('a group deadline still fires on its own timer', async () => {
    const group = new DeadlineGroup(new AbortController().signal);
    const d = group.create(100);
    await vi.advanceTimersByTimeAsync(100);
    expect(d.signal.reason).toBeInstanceOf(DeadlineError);
    group.dispose();
  });

  it('a group fires its deadlines in time order on one timer, whatever order they were made in', async () => {
    const group = new DeadlineGroup(new AbortController().signal);
    const fired: number[] = [];
    const make = (ms: number) => {
      const d = group.create(ms);
      d.signal.addEventListener('abort', () => fired.push(ms));
      return d;
    };
    const all = [make(300), make(100), make(200), make(100)];
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(150);
    expect(fired).toEqual([100, 100]);
    await vi.advanceTimersByTimeAsync(200);
    expect(fired).toEqual([100, 100, 200, 300]);
    for (const d of all) d.dispose();
    group.dispose();
  });

  it('a group with no deadline left holds no timer (nothing keeps the process up)', async () => {
    const group = new DeadlineGroup(new AbortController().signal);
    const a = group.create(1000);
    const b = group.create(1000);
    a.dispose();
    expect(vi.getTimerCount()).toBe(1);
    b.dispose();
    expect(vi.getTimerCount()).toBe(0);
    group.dispose();
  });

  it('a deadline disposed before its time never fires, the others still do', async () => {
    const group = new DeadlineGroup(new AbortController().signal);
    const first = group.create(100);
    const second = group.create(200);
    first.dispose();
    await vi.advanceTimersByTimeAsync(250);
    expect(first.signal.aborted).toBe(false);
    expect(second.signal.reason).toBeInstanceOf(DeadlineError);
    second.dispose();
    group.dispose();
  });

  it('a cancel between a deadline timer and its verdict wins (the check sees the cancel reason)', () => {
    const parent = new AbortController();
    const group = new DeadlineGroup(parent.signal);
    const d = group.create(100);
    vi.advanceTimersByTime(100); // the timer ran; the verdict waits for the check phase
    expect(d.timerLateMs).toBe(0);
    expect(d.signal.aborted).toBe(false);
    const reason = new CancelledError();
    parent.abort(reason);
    expect(d.signal.reason).toBe(reason);
    d.dispose();
    group.dispose();
  });

  it('recycles the signal of a deadline that ended clean, never one with a listener left or aborted', () => {
    const group = new DeadlineGroup(new AbortController().signal);
    const clean = group.create(1000);
    const listener = () => {};
    clean.signal.addEventListener('abort', listener);
    clean.signal.removeEventListener('abort', listener);
    group.recycle(clean);
    const reused = group.create(1000);
    expect(reused.signal).toBe(clean.signal);
    reused.signal.addEventListener('abort', listener);
    group.recycle(reused);
    const fresh = group.create(1000);
    expect(fresh.signal).not.toBe(reused.signal);
    fresh.dispose();
    group.dispose();
  });

  it('fires on the monotonic clock: a step of the wall clock neither fires it early nor holds it back', async () => {
    const group = new DeadlineGroup(new AbortController().signal);
    const ahead = group.create(100);
    vi.setSystemTime(Date.now() + 60_000); // NTP steps the wall clock forward
    await vi.advanceTimersByTimeAsync(50);
    expect(ahead.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    expect(ahead.signal.reason).toBeInstanceOf(DeadlineError);
    const behind = group.create(100);
    vi.setSystemTime(Date.now() - 60_000); // and back
    await vi.advanceTimersByTimeAsync(100);
    expect(behind.signal.reason).toBeInstanceOf(DeadlineError);
    ahead.dispose();
    behind.dispose();
    group.dispose();
  });
});
