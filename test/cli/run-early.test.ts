import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_THREADS_FROM, runInProcessBelow, startThreadsEarly } from '../../src/cli/run-early.js';
import type { RunFlags } from '../../src/cli/run-flags.js';
import { parseThreads } from '../../src/cli/threads-option.js';
import {
  DEFAULT_IN_PROCESS_BELOW,
  MAIN_LANE_UP_TO,
  type StartedThread,
  usesMainLane,
} from '../../src/distributed/thread-start.js';

const flags = (over: Partial<RunFlags> = {}): RunFlags => ({
  targetsFile: [],
  resolve: [],
  arg: [],
  concurrency: '256',
  retries: '0',
  progress: false,
  threads: '2',
  ...over,
});

async function started(specs: string[], f: RunFlags): Promise<StartedThread[]> {
  const threads = startThreadsEarly(specs, f);
  await Promise.all(threads.map((t) => t.worker.terminate()));
  return threads;
}

describe('startThreadsEarly', () => {
  let dir: string;
  let big: string;
  let small: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fp-run-early-'));
    big = path.join(dir, 'big.txt');
    small = path.join(dir, 'small.txt');
    await writeFile(big, Array.from({ length: 3000 }, (_, i) => `127.1.${i >> 8}.${i & 255}\n`).join(''));
    await writeFile(small, '127.0.0.1\n127.0.0.2\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts the worker threads of --threads lanes for a large targets file or block', async () => {
    // Up to MAIN_LANE_UP_TO lanes, one is the main thread's own: one worker thread fewer.
    expect(await started([], flags({ targetsFile: [big] }))).toHaveLength(1);
    expect(await started(['127.0.0.0/20'], flags({ threads: '3' }))).toHaveLength(2);
    expect(await started(['127.0.0.0/20'], flags({ threads: String(MAIN_LANE_UP_TO) }))).toHaveLength(
      MAIN_LANE_UP_TO - 1,
    );
    // Above it, every lane is a worker thread.
    expect(await started(['127.0.0.0/20'], flags({ threads: String(MAIN_LANE_UP_TO + 1) }))).toHaveLength(
      MAIN_LANE_UP_TO + 1,
    );
  });

  it('passes --resolver and the log level to the threads', async () => {
    const [t] = await started([], flags({ targetsFile: [big], resolver: '127.0.0.53' }));
    expect(t?.data).toEqual({ logLevel: 'warn', resolver: '127.0.0.53' });
  });

  it('starts none for a small run, one thread, a user check, stdin or bad input', async () => {
    expect(await started(['127.0.0.1', '127.0.0.0/24'], flags())).toHaveLength(0);
    expect(await started([], flags({ targetsFile: [small] }))).toHaveLength(0);
    expect(await started([], flags({ targetsFile: [big], threads: '1' }))).toHaveLength(0);
    expect(await started([], flags({ targetsFile: [big], checkModule: 'x.ts' }))).toHaveLength(0);
    expect(await started([], flags({ targetsFile: ['-'] }))).toHaveLength(0);
    expect(await started([], flags({ targetsFile: [path.join(dir, 'missing')] }))).toHaveLength(0);
    expect(await started(['not a target'], flags())).toHaveLength(0);
    expect(await started([], flags({ targetsFile: [big], threads: 'many' }))).toHaveLength(0);
  });

  it('without --threads starts none below DEFAULT_THREADS_FROM targets, and threads from there', async () => {
    expect(await started([], flags({ targetsFile: [big], threads: undefined }))).toHaveLength(0);
    expect(await started(['127.0.0.0/17'], flags({ threads: undefined }))).toHaveLength(0);
    const cores = parseThreads(undefined);
    const workers = cores < 2 ? 0 : usesMainLane(cores) ? cores - 1 : cores;
    expect(await started(['127.0.0.0/15'], flags({ threads: undefined }))).toHaveLength(workers);
  });
});

describe('runInProcessBelow', () => {
  it('keeps runs under DEFAULT_THREADS_FROM in the main thread by default, under DEFAULT_IN_PROCESS_BELOW with --threads', () => {
    expect(runInProcessBelow(flags({ threads: undefined }))).toBe(DEFAULT_THREADS_FROM);
    expect(runInProcessBelow(flags({ threads: '2' }))).toBe(DEFAULT_IN_PROCESS_BELOW);
    expect(DEFAULT_THREADS_FROM).toBeGreaterThan(20_000);
  });
});
