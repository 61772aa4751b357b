import { describe, expect, it } from 'vitest';
import {
  chooseShardSize,
  MAX_CHOSEN_SHARD_SIZE,
  UNKNOWN_TOTAL_SHARD_SIZE,
} from '../../src/distributed/shard-size.js';

describe('chooseShardSize', () => {
  it('gives about eight shards per worker', () => {
    expect(chooseShardSize(32_000, 4, 16)).toBe(1000);
    expect(chooseShardSize(10_000, 4, 16)).toBe(313);
    expect(chooseShardSize(8_000, 2, 64)).toBe(500);
  });

  it('keeps to the minimum for small runs', () => {
    expect(chooseShardSize(100, 4, 16)).toBe(16);
    expect(chooseShardSize(100, 4, 64)).toBe(64);
    expect(chooseShardSize(0, 4, 16)).toBe(16);
  });

  it('never goes above the maximum', () => {
    expect(chooseShardSize(10_000_000, 1, 16)).toBe(MAX_CHOSEN_SHARD_SIZE);
  });

  it('counts no live workers as one', () => {
    expect(chooseShardSize(4_000, 0, 16)).toBe(500);
    expect(chooseShardSize(4_000, 1, 16)).toBe(500);
  });

  it('uses a fixed size when the total is unknown', () => {
    expect(chooseShardSize(undefined, 4, 16)).toBe(UNKNOWN_TOTAL_SHARD_SIZE);
    expect(chooseShardSize(undefined, 64, 64)).toBe(UNKNOWN_TOTAL_SHARD_SIZE);
  });
});
