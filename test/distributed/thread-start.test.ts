import { describe, expect, it } from 'vitest';
import { sameThreadData, startThread, threadLogLevel } from '../../src/distributed/thread-start.js';

describe('startThread', () => {
  it('starts an unref-ed thread with a young generation of three 16 MB semi-spaces', async () => {
    const t = startThread({ logLevel: 'warn' });
    try {
      expect(t.worker.resourceLimits?.maxYoungGenerationSizeMb).toBe(48);
      expect(t.usable).toBe(true);
    } finally {
      await t.worker.terminate();
    }
    expect(t.usable).toBe(false);
  }, 20_000);

  it('matches thread data on log level and resolver', () => {
    expect(sameThreadData({ logLevel: 'warn' }, { logLevel: 'warn' })).toBe(true);
    expect(sameThreadData({ logLevel: 'warn' }, { logLevel: 'info' })).toBe(false);
    expect(sameThreadData({ logLevel: 'warn', resolver: '127.0.0.53' }, { logLevel: 'warn' })).toBe(false);
  });

  it("gives threads the main log's level, warn for none or silent", () => {
    expect(threadLogLevel('debug')).toBe('debug');
    expect(threadLogLevel('silent')).toBe('warn');
    expect(threadLogLevel(undefined)).toBe('warn');
  });
});
