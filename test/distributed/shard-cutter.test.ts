import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CutShard, ShardCutter } from '../../src/distributed/shard-cutter.js';
import { openTargets, type Target } from '../../src/targets/index.js';
import { fdsOn } from '../helpers/fds.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fp-shard-cutter-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cutAll(targets: AsyncIterable<Target>, size: number, bytes: number): Promise<CutShard[]> {
  const cutter = new ShardCutter(targets, size, bytes);
  const shards: CutShard[] = [];
  for (let s = await cutter.next(); s; s = await cutter.next()) shards.push(s);
  expect(cutter.exhausted).toBe(true);
  return shards;
}

describe('ShardCutter', () => {
  it('cuts a batched target source into the same shards as one target at a time', async () => {
    const path = join(dir, 'targets.txt');
    const lines = ['10.0.0.0/22', 'a.example:22 role=x'];
    for (let i = 0; i < 40_000; i++)
      lines.push(i % 3 === 0 ? `10.8.${(i >> 8) & 255}.${i & 255}` : `n${i}.example`);
    await writeFile(path, lines.join('\n'));
    const source = await openTargets({ files: [path] });
    try {
      async function* oneByOne() {
        for await (const t of source.targets()) yield t; // a plain async iterable: no batches
      }
      for (const [size, bytes] of [
        [1000, 1 << 20],
        [333, 2000],
      ] as const) {
        const batched = await cutAll(source.targets(), size, bytes);
        expect(batched).toEqual(await cutAll(oneByOne(), size, bytes));
        expect(batched.reduce((n, s) => n + s.count, 0)).toBe(source.total);
        expect(batched.map((s) => s.seq)).toEqual(batched.map((_, i) => i));
      }
    } finally {
      await source.close();
    }
  });

  it('close() before the end closes the targets file', async () => {
    const path = join(dir, 'many.txt');
    await writeFile(path, Array.from({ length: 100_000 }, (_, i) => `n${i}.example`).join('\n'));
    const source = await openTargets({ files: [path] });
    try {
      const cutter = new ShardCutter(source.targets(), 100, 1 << 20);
      expect((await cutter.next())?.count).toBe(100);
      expect(await fdsOn(path)).toBe(1);
      await cutter.close();
      expect(await fdsOn(path)).toBe(0);
      expect(await cutter.next()).toBeUndefined();
    } finally {
      await source.close();
    }
  });
});
