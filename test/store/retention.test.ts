import { afterEach, describe, expect, it, vi } from 'vitest';
import { openStore, startRetention } from '../../src/store/index.js';
import { newRun, result } from './store-fixtures.js';

describe('retention timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sweeps runs older than keepMs on every interval, and a failing sweep is retried at the next tick', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(new Date('2026-01-31T00:00:00Z'));
    const store = await openStore(':memory:');
    const old = newRun({ state: 'done', createdAt: '2026-01-01T00:00:00.000Z' });
    const recent = newRun({ state: 'done', createdAt: '2026-01-30T00:00:00.000Z' });
    await store.createRun(old);
    await store.createRun(recent);
    await store.insertResults([result(old.id, 1, 'pass'), result(recent.id, 1, 'pass')]);

    const deleteSpy = vi.spyOn(store, 'deleteRunsOlderThan');
    deleteSpy.mockRejectedValueOnce(new Error('database is locked'));
    const retention = startRetention(store, 7 * 86_400_000, { intervalMs: 3_600_000 });
    try {
      await vi.advanceTimersByTimeAsync(3_600_000); // first tick fails: logged, nothing deleted
      expect(await store.getRun(old.id)).toBeDefined();
      await vi.advanceTimersByTimeAsync(3_600_000); // second tick deletes the old run
      await vi.waitFor(async () => expect(await store.getRun(old.id)).toBeUndefined());
      expect(deleteSpy).toHaveBeenCalledTimes(2);
      expect(deleteSpy.mock.calls[1]![0].toISOString()).toBe('2026-01-24T02:00:00.000Z');
      expect(await store.getRun(recent.id)).toBeDefined();
      expect(await retention.sweep()).toBe(0);
    } finally {
      retention.stop();
      await store.close();
    }
  });
});
