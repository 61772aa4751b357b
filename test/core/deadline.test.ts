import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDeadline, DeadlineGroup } from '../../src/core/deadline.js';
import { CancelledError, DeadlineError } from '../../src/core/errors.js';

describe('deadlines', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
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
});
