import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signalHook } from '../../src/core/abort-hook.js';
import { createDeadline, DeadlineGroup } from '../../src/core/deadline.js';
import { CancelledError, DeadlineError } from '../../src/core/errors.js';

describe('a deadline as its signal’s abort hook', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('calls its listener once at the deadline: after the signal’s listeners, before the watcher', async () => {
    const d = createDeadline(500);
    const order: string[] = [];
    d.signal.addEventListener('abort', () => order.push('signal'));
    d.listen({
      handleEvent: () => order.push(`hook ${d.aborted} ${d.signal.reason instanceof DeadlineError}`),
    });
    d.watch(() => order.push('watcher'));
    await vi.advanceTimersByTimeAsync(499);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual(['signal', 'hook true true', 'watcher']);
    d.dispose();
  });

  it('calls its listener when the group’s parent cancels, with the parent’s reason', () => {
    const parent = new AbortController();
    const group = new DeadlineGroup(parent.signal);
    const d = group.create(10_000);
    const heard: unknown[] = [];
    d.listen({ handleEvent: () => heard.push(d.signal.reason) });
    const reason = new CancelledError();
    parent.abort(reason);
    expect(heard).toEqual([reason]);
    group.dispose();
  });

  it('a removed listener, a replaced one and one of a disposed deadline are never called', async () => {
    const parent = new AbortController();
    const group = new DeadlineGroup(parent.signal);
    const calls: string[] = [];
    const removed = group.create(10_000);
    removed.listen({ handleEvent: () => calls.push('removed') });
    removed.listen(undefined);
    const replaced = group.create(10_000);
    replaced.listen({ handleEvent: () => calls.push('first') });
    replaced.listen({ handleEvent: () => calls.push('second') });
    const disposed = group.create(500);
    disposed.listen({ handleEvent: () => calls.push('disposed') });
    disposed.dispose();
    await vi.advanceTimersByTimeAsync(1000);
    parent.abort(new CancelledError());
    expect(calls).toEqual(['second']);
    group.dispose();
  });

  it('adds no listener to the signal', () => {
    const d = createDeadline(500);
    d.listen({ handleEvent: () => {} });
    expect(getEventListeners(d.signal, 'abort')).toHaveLength(0);
    d.dispose();
  });
});

describe('signalHook', () => {
  it('keeps one abort listener on the signal and removes it', () => {
    const ac = new AbortController();
    const hook = signalHook(ac.signal);
    const calls: string[] = [];
    hook.listen({ handleEvent: () => calls.push('first') });
    hook.listen({ handleEvent: () => calls.push('second') });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    expect(hook.aborted).toBe(false);
    ac.abort(new CancelledError());
    expect(calls).toEqual(['second']);
    expect(hook.aborted).toBe(true);
    hook.listen(undefined);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});
