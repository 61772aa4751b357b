import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCheck } from '../../src/checks/check.js';
import { LocalExecutor } from '../../src/engine/executor.js';
import type { Result } from '../../src/engine/result.js';
import { startRun } from '../../src/engine/run.js';
import { openTargets, type TargetSource } from '../../src/targets/open-targets.js';
import type { Target } from '../../src/targets/target.js';

/**
 * A targets file is a batched source (`TARGET_BATCHES`): the engine reads it a batch at a time (one await per
 * chunk of lines, not per target). Same targets, same order of starts, one result each; cancel and an early
 * stop behave as with a per-target source.
 */
const check = (started: string[]) =>
  defineCheck({
    name: 'echo',
    description: 'test',
    args: z.object({}),
    timeoutMs: 1000,
    needsAddress: false,
    releasesSignal: true,
    run: (t: Target) => {
      started.push(t.address ?? `name:${t.name}`);
      return new Promise((resolve) => setImmediate(() => resolve({ status: 'pass', message: 'ok' })));
    },
  });

let dir: string;
let file: string;
const LINES: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fp-batched-'));
  file = path.join(dir, 'targets.txt');
  // Addresses, plain names (a `names` batch), a block and comments: more than one chunk of lines.
  for (let i = 0; i < 6000; i++) {
    if (i % 1000 === 7) LINES.push('# a comment');
    LINES.push(i % 3 === 0 ? `host${i}.example` : `127.1.${i >> 8}.${i & 255}`);
  }
  LINES.push('127.9.0.0/30');
  await writeFile(file, `${LINES.join('\n')}\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sourceTargets(): Promise<string[]> {
  const source = await openTargets({ files: [file] });
  const out: string[] = [];
  for await (const t of source.targets()) out.push(t.address ?? `name:${t.name}`);
  await source.close();
  return out;
}

/** What LocalExecutor runs: the file's targets through the echo check, 8 in flight. */
function localSpec(source: TargetSource, started: string[]) {
  return {
    check: check(started),
    args: {},
    targets: source.targets(),
    total: source.total,
    concurrency: 8,
    retries: 0,
  };
}

describe('a run over a batched source (a targets file)', () => {
  it('starts every target once, in the order of the file, with one result each', async () => {
    const expected = await sourceTargets();
    expect(expected).toHaveLength(6004);
    const source = await openTargets({ files: [file] });
    const started: string[] = [];
    const run = startRun({
      check: check(started),
      args: {},
      targets: source.targets(),
      total: source.total,
      concurrency: 64,
    });
    const results: Result[] = [];
    for await (const r of run.results()) results.push(r);
    await source.close();
    expect(started).toEqual(expected);
    expect(results).toHaveLength(expected.length);
    expect(results.every((r) => r.status === 'pass')).toBe(true);
    expect(new Set(results.map((r) => r.target)).size).toBe(expected.length);
  });

  it('a cancelled run gives the targets not started a `cancelled` result each, through LocalExecutor', async () => {
    const source = await openTargets({ files: [file] });
    const controller = new AbortController();
    const started: string[] = [];
    const executor = new LocalExecutor();
    const spec = localSpec(source, started);
    const counts = { pass: 0, cancelled: 0, other: 0 };
    for await (const r of executor.execute({ id: 'r-cancel' }, spec, controller.signal)) {
      if (r.status === 'pass') counts.pass++;
      else if (r.status === 'cancelled') counts.cancelled++;
      else counts.other++;
      if (counts.pass === 100) controller.abort();
    }
    await source.close();
    expect(counts.pass + counts.cancelled + counts.other).toBe(6004);
    expect(counts.cancelled).toBeGreaterThan(5000);
    expect(started.length).toBeLessThan(200);
    expect(executor.progress('r-cancel')).toMatchObject({ done: 6004, inFlight: 0 }); // kept after the end
  });

  it('breaking out stops reading the file and ends the run (LocalExecutor forgets it as live)', async () => {
    const source = await openTargets({ files: [file] });
    const started: string[] = [];
    const executor = new LocalExecutor();
    const spec = localSpec(source, started);
    let n = 0;
    for await (const _ of executor.execute({ id: 'r-break' }, spec, new AbortController().signal)) {
      if (++n === 50) break;
    }
    await source.close();
    expect(started.length).toBeLessThan(100);
    expect(executor.progress('r-break')?.inFlight).toBe(0);
  });

  it('a LocalExecutor run that never started does nothing; a failing source fails the iteration', async () => {
    const executor = new LocalExecutor();
    const started: string[] = [];
    const spec = (targets: AsyncIterable<Target>) => ({
      check: check(started),
      args: {},
      targets,
      concurrency: 4,
      retries: 0,
    });
    const never = executor.execute(
      { id: 'r-never' },
      spec((async function* () {})()),
      new AbortController().signal,
    );
    await never.return(undefined);
    expect(executor.progress('r-never')).toBeUndefined();
    const failing = (async function* () {
      yield { address: '127.0.0.1', labels: {} } as Target;
      throw new Error('source broke');
    })();
    await expect(async () => {
      for await (const _ of executor.execute({ id: 'r-fail' }, spec(failing), new AbortController().signal)) {
        // drain
      }
    }).rejects.toThrow('source broke');
    expect(executor.progress('r-fail')?.inFlight).toBe(0);
  });
});
