import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseShardSize } from '../../src/distributed/shard-size.js';
import { MIN_SHARD_SIZE } from '../../src/distributed/thread-executor.js';
import { BATCH_CREDIT, BATCH_MAX } from '../../src/distributed/thread-protocol.js';
import type { Result } from '../../src/engine/result.js';
import { intToIpv4, ipv4ToInt } from '../../src/targets/ip.js';
import { type CountingListener, countingListener } from '../helpers/counting-listener.js';
import { ensureBuilt, HANDLES_LEFT_OPEN, jsonLines, lines, startCli } from './cli.js';

/**
 * `run --threads 2 -o jsonl` without `--db` (the threads' batches go to stdout through a `BatchSink`) into a
 * pipe nobody reads for a while: stdout fills, the sink stops taking batches, main stops acknowledging them
 * and sending shards, and the threads stop starting checks, at a bound set by the shard size, the batch
 * credit and what the pipe holds, far below the run's size. Once the pipe is read again, every target's
 * result arrives exactly once. The listener counts the checks started (each passes on connect).
 */
const TOTAL = 16_384;
const THREADS = 2;
/** A long label makes each line over 1 KB: what the pipe path holds is few lines next to the run. */
const NOTE = 'x'.repeat(1000);
/**
 * More than the bytes written that the pipe path can hold while the CLI waits for 'drain': the socket pair
 * of a child's stdio (its send buffer, which a write may overshoot by half), our paused stream's buffer (its
 * high-water mark plus one 64 KiB read) and the CLI's (its high-water mark, one 64 KiB chunk and a batch).
 */
const PIPE_PATH_BYTES = 2 * socketSendBuffer() + 512 * 1024;

function socketSendBuffer(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/wmem_default', 'utf8'));
  } catch {
    return 4 * 1024 * 1024;
  }
}

let listener: CountingListener;
let dir: string;
let targetsFile: string;

beforeAll(async () => {
  ensureBuilt();
  listener = await countingListener('0.0.0.0');
  dir = await mkdtemp(path.join(os.tmpdir(), 'fp-e2e-slow-stdout-'));
  targetsFile = path.join(dir, 'targets.jsonl');
  const first = ipv4ToInt('127.22.32.0');
  const entries = Array.from({ length: TOTAL }, (_, i) =>
    JSON.stringify({ address: intToIpv4(first + i), port: listener.port, labels: { note: NOTE } }),
  );
  await writeFile(targetsFile, `${entries.join('\n')}\n`);
});

afterAll(async () => {
  await listener?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('run --threads -o jsonl into a pipe nobody reads', () => {
  it('holds the threads back, then writes every result exactly once when read', async () => {
    const cli = startCli([
      'run',
      'tcp',
      '-f',
      targetsFile,
      '-c',
      '32',
      '-t',
      '10s',
      '-o',
      'jsonl',
      '--no-progress',
      '--threads',
      String(THREADS),
    ]);
    cli.child.stdout?.pause(); // before any output: the pipe fills and stays full
    let held: number;
    try {
      // Once the pipe must be full (a line is under 2 KB), wait until no check has started for 1 s: the
      // threads are held. The bounds only catch a hang; a busy machine may just make this check less strict.
      for (let i = 0; i < 600 && listener.accepted() < (64 * 1024) / 2000; i++) await sleep(50);
      held = listener.accepted();
      for (let still = 0, i = 0; still < 20 && i < 1200; i++) {
        await sleep(50);
        const now = listener.accepted();
        still = now === held ? still + 1 : 0;
        held = now;
      }
      expect(cli.child.exitCode).toBeNull();
    } finally {
      cli.child.stdout?.resume();
    }
    const r = await cli.done;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain(HANDLES_LEFT_OPEN);
    const results = jsonLines<Result>(r.stdout);
    expect(results).toHaveLength(TOTAL);
    expect(new Set(results.map((x) => x.target)).size).toBe(TOTAL);
    expect(results.every((x) => x.status === 'pass')).toBe(true);

    // Started while held, at most: per thread, the targets sent without a result back (main sends a shard
    // while at most one shard's worth is outstanding: two shards); the batches it sent unacknowledged (main
    // acks a batch when stdout takes it); and the results written into the pipe path.
    const shardSize = chooseShardSize(TOTAL, THREADS, MIN_SHARD_SIZE);
    const shortestLine = Math.min(...lines(r.stdout).map((l) => Buffer.byteLength(l) + 1));
    const bound =
      THREADS * (2 * shardSize + BATCH_CREDIT * BATCH_MAX) + Math.ceil(PIPE_PATH_BYTES / shortestLine);
    expect(bound).toBeLessThan(TOTAL / 2); // measured: 1,582 held of a bound of 6,334 (2026-12-01)
    expect(held).toBeLessThanOrEqual(bound);
  }, 120_000);
});
