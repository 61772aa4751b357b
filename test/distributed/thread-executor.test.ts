import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcpCheck } from '../../src/checks/tcp/index.js';
import { formatGroups } from '../../src/cli/format-groups.js';
import { formatSummary } from '../../src/cli/format-summary.js';
import { loopMonitor } from '../../src/core/loop-monitor.js';
import { ThreadExecutor } from '../../src/distributed/thread-executor.js';
import { BATCH_CREDIT } from '../../src/distributed/thread-protocol.js';
import { type StartedThread, startThread } from '../../src/distributed/thread-start.js';
import type { BatchSink, ExecuteSpec } from '../../src/engine/executor.js';
import { batchSize } from '../../src/engine/outcome-batch.js';
import { OutcomeSummary } from '../../src/engine/outcome-summary.js';
import { overloadTotals } from '../../src/engine/overload.js';
import type { Result } from '../../src/engine/result.js';
import { resultLine } from '../../src/sinks/result-line.js';
import { intToIpv4, ipv4ToInt } from '../../src/targets/ip.js';
import type { Target } from '../../src/targets/target.js';
import { countingListener } from '../helpers/counting-listener.js';

/**
 * Issue 11, the thread merge: a run sharded over worker threads yields exactly one result per target
 * (whatever the order), also under cancel, and breaking out stops the threads' work. Targets are loopback
 * addresses: one listens (pass), the others refuse (error).
 */
const BASE = '127.31.40.0';
const LISTENING = '127.31.40.7';

let server: net.Server;
let port: number;

beforeAll(async () => {
  server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, LISTENING, r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

function addresses(n: number): string[] {
  const first = ipv4ToInt(BASE);
  return Array.from({ length: n }, (_, i) => intToIpv4(first + i));
}

async function* targets(list: readonly string[]): AsyncGenerator<Target> {
  for (const address of list) yield { address, labels: {} };
}

function spec(list: readonly string[], extra: Partial<ExecuteSpec> = {}): ExecuteSpec {
  return {
    check: tcpCheck,
    args: tcpCheck.args.parse({ port }),
    targets: targets(list),
    total: list.length,
    concurrency: 32,
    retries: 0,
    timeoutMs: 5000,
    ...extra,
  };
}

const SHARD_SIZE = 16;

/** Two lanes: two worker threads, or with `mainLane` main's own and one worker thread. */
function executor(mainLane = false): ThreadExecutor {
  return new ThreadExecutor({ threads: 2, mainLane, shardSize: SHARD_SIZE, inProcessBelow: 0 });
}

const LANES = [
  { lanes: 'two worker threads', mainLane: false },
  { lanes: "main's lane and a worker thread", mainLane: true },
];

/** Every result of one run on `ex`, as they came, with no cancel and no sink. */
async function drain(ex: ThreadExecutor, run: { id: string }, runSpec: ExecuteSpec): Promise<Result[]> {
  const results: Result[] = [];
  for await (const r of ex.execute(run, runSpec, new AbortController().signal)) results.push(r);
  return results;
}

/** Every target exactly once: count, no duplicates, the same set. */
function expectOnePerTarget(results: readonly Result[], list: readonly string[]): void {
  const seen = results.map((r) => r.target);
  expect(seen).toHaveLength(list.length);
  expect(new Set(seen).size).toBe(list.length);
  expect([...seen].sort()).toEqual([...list].sort());
}

describe('ThreadExecutor', () => {
  it.each(LANES)(
    'yields one result per target over several shards on $lanes',
    async ({ mainLane }) => {
      const list = addresses(200); // 13 shards of 16
      const ex = executor(mainLane);
      try {
        const results = await drain(ex, { id: 'thread-merge-1' }, spec(list));
        expectOnePerTarget(results, list);
        expect(ex.threadCount).toBe(2);
        expect(results.find((r) => r.target === LISTENING)?.status).toBe('pass');
        expect(results.filter((r) => r.status === 'error')).toHaveLength(199);
        expect(results.every((r) => r.run === 'thread-merge-1' && r.port === port)).toBe(true);
        // Each result came over as its JSONL line: the line written is the result's own JSON.
        for (const r of results) expect(resultLine(r)).toBe(`${JSON.stringify(r)}\n`);
        const progress = ex.progress('thread-merge-1');
        expect(progress).toMatchObject({ done: 200, inFlight: 0, counts: { pass: 1, error: 199 } });
        expect(progress?.overload?.concurrencyCeiling).toBe(32);
      } finally {
        await ex.close();
      }
    },
    60_000,
  );

  it.each(LANES)(
    'gives every target one result under cancel on $lanes, the rest cancelled',
    async ({ mainLane }) => {
      // Paced at 100/s, the run would take 6 s: cancelled after 60 results, mid-run for sure.
      const list = addresses(600);
      const ex = executor(mainLane);
      const controller = new AbortController();
      try {
        const results: Result[] = [];
        for await (const r of ex.execute(
          { id: 'thread-merge-2' },
          spec(list, { ratePerSec: 100 }),
          controller.signal,
        )) {
          results.push(r);
          if (results.length === 60) controller.abort();
        }
        expectOnePerTarget(results, list);
        const cancelled = results.filter((r) => r.status === 'cancelled').length;
        expect(cancelled).toBeGreaterThan(0);
        expect(cancelled).toBeLessThan(list.length - 59);
        // Lines from the threads and the cancelled results made here alike: each the JSON of its result.
        for (const r of results) expect(resultLine(r)).toBe(`${JSON.stringify(r)}\n`);
        expect(ex.progress('thread-merge-2')?.done).toBe(600);
      } finally {
        await ex.close();
      }
    },
    60_000,
  );

  it.each(LANES)(
    'holds --rate over $lanes together',
    async ({ mainLane }) => {
      const list = addresses(250);
      const ex = executor(mainLane);
      try {
        const results = await drain(ex, { id: 'thread-rate' }, spec(list, { ratePerSec: 100 }));
        expectOnePerTarget(results, list);
        expect(ex.threadCount).toBe(2);
        const starts = results.map((r) => Date.parse(r.startedAt)).sort((a, b) => a - b);
        const spanS = ((starts.at(-1) as number) - (starts[0] as number)) / 1000;
        const rate = (starts.length - 1) / spanS;
        expect(rate).toBeLessThanOrEqual(130); // the ceiling: 100/s over both threads, not per thread
        expect(rate).toBeGreaterThan(25); // a loose floor: the machine may be busy
      } finally {
        await ex.close();
      }
    },
    60_000,
  );

  it.each(LANES)(
    'stops $lanes when the consumer breaks out, and runs again after',
    async ({ mainLane }) => {
      const ex = executor(mainLane);
      try {
        let n = 0;
        const list = addresses(600);
        for await (const _ of ex.execute(
          { id: 'thread-break' },
          spec(list, { ratePerSec: 200 }),
          new AbortController().signal,
        )) {
          if (++n === 20) break;
        }
        // The run is dropped at once: nothing in flight, and the threads serve the next run.
        expect(ex.progress('thread-break')?.inFlight).toBe(0);
        const list2 = addresses(100);
        const again = await drain(ex, { id: 'thread-again' }, spec(list2));
        expectOnePerTarget(again, list2);
      } finally {
        await ex.close();
      }
      expect(ex.threadCount).toBe(0);
    },
    60_000,
  );

  it("runs on main's own lane alone (one lane, no worker thread)", async () => {
    const ex = new ThreadExecutor({ threads: 1, mainLane: true, shardSize: SHARD_SIZE, inProcessBelow: 0 });
    try {
      const list = addresses(100);
      const results = await drain(ex, { id: 'main-lane-only' }, spec(list));
      expectOnePerTarget(results, list);
      expect(ex.threadCount).toBe(1);
      expect(results.find((r) => r.target === LISTENING)?.status).toBe('pass');
      expect(ex.progress('main-lane-only')).toMatchObject({ done: 100, inFlight: 0 });
    } finally {
      await ex.close();
    }
    expect(ex.threadCount).toBe(0);
  }, 30_000);

  it("counts main's stalls and re-runs once when main's lane saw them too", async () => {
    // A silent listener: connected checks wait for a banner until their 400 ms deadline. Main's loop is blocked
    // 1 s meanwhile: every deadline passes during the stall, so each check is re-run once (then times out).
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '0.0.0.0', r));
    const silentPort = (silent.address() as net.AddressInfo).port;
    const ex = new ThreadExecutor({ threads: 1, mainLane: true, shardSize: SHARD_SIZE, inProcessBelow: 0 });
    let stallsSeen = 0;
    const unsubscribe = loopMonitor().onStall(() => stallsSeen++);
    const release = loopMonitor().acquire();
    const rechecksBefore = overloadTotals.rechecks;
    try {
      const list = addresses(20);
      const args = tcpCheck.args.parse({ port: silentPort, expectBanner: '^never' });
      setTimeout(() => {
        const until = performance.now() + 1000;
        while (performance.now() < until) {}
      }, 100);
      const results = await drain(ex, { id: 'lane-stalls' }, spec(list, { args, timeoutMs: 400 }));
      expectOnePerTarget(results, list);
      const overload = ex.progress('lane-stalls')?.overload;
      expect(stallsSeen).toBeGreaterThan(0);
      expect(overload?.stalls).toBe(stallsSeen);
      expect(overload?.rechecks).toBeGreaterThan(0);
      expect(overloadTotals.rechecks - rechecksBefore).toBe(overload?.rechecks);
    } finally {
      unsubscribe();
      release();
      await ex.close();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  }, 30_000);

  it('keeps small runs and non-built-in checks in this thread', async () => {
    const ex = new ThreadExecutor({ threads: 2 });
    try {
      const list = addresses(50);
      const results = await drain(ex, { id: 'thread-small' }, spec(list));
      expectOnePerTarget(results, list);
      expect(ex.threadCount).toBe(0);
    } finally {
      await ex.close();
    }
  }, 30_000);

  it('fails the run with FP_THREAD_EXECUTOR when a thread dies mid-run, and runs again after', async () => {
    const started = [startThread({ logLevel: 'warn' }), startThread({ logLevel: 'warn' })];
    const ex = new ThreadExecutor({ threads: 2, shardSize: 16, inProcessBelow: 0, started });
    try {
      const list = addresses(600);
      const results: Result[] = [];
      let failure: unknown;
      try {
        // Paced at 100/s: the run takes 6 s, so the thread is killed mid-run for sure.
        for await (const r of ex.execute(
          { id: 'thread-dies' },
          spec(list, { ratePerSec: 100 }),
          new AbortController().signal,
        )) {
          results.push(r);
          if (results.length === 30) void started[0]!.worker.terminate();
        }
      } catch (err) {
        failure = err;
      }
      expect(failure).toMatchObject({ code: 'FP_THREAD_EXECUTOR' });
      expect((failure as Error).message).toMatch(/worker thread exited/);
      expect(results.length).toBeLessThan(list.length);
      expect(new Set(results.map((r) => r.target)).size).toBe(results.length); // never a duplicate

      const list2 = addresses(100);
      const again = await drain(ex, { id: 'thread-dies-2' }, spec(list2));
      expectOnePerTarget(again, list2);
    } finally {
      await ex.close();
    }
  }, 60_000);

  it("fails the run when its worker thread dies beside main's lane, which stops too, and runs again after", async () => {
    const counting = await countingListener('0.0.0.0'); // every target passes
    const started = [startThread({ logLevel: 'warn' })];
    const ex = new ThreadExecutor({ threads: 2, mainLane: true, shardSize: 16, inProcessBelow: 0, started });
    try {
      const list = addresses(600);
      const results: Result[] = [];
      let failure: unknown;
      try {
        // Paced at 100/s: 6 s of checks, most of them still to start when the thread is killed.
        for await (const r of ex.execute(
          { id: 'lane-thread-dies' },
          spec(list, { ratePerSec: 100, args: tcpCheck.args.parse({ port: counting.port }) }),
          new AbortController().signal,
        )) {
          results.push(r);
          if (results.length === 30) void started[0]!.worker.terminate();
        }
      } catch (err) {
        failure = err;
      }
      expect(failure).toMatchObject({ code: 'FP_THREAD_EXECUTOR' });
      expect(results.length).toBeLessThan(list.length);
      expect(new Set(results.map((r) => r.target)).size).toBe(results.length);
      // Main's lane dropped the run with it: no check of it starts any more. The drop reaches the lane over its
      // port, and a connect made just before is accepted by this listener a loop turn later: let both land first
      // (a lane still running at its ~50/s share would start ~25 more checks in the next 500 ms).
      await sleep(200);
      const after = counting.accepted();
      await sleep(500);
      expect(counting.accepted()).toBe(after);
      expect(after).toBeLessThan(list.length / 2);

      const list2 = addresses(100);
      const again = await drain(ex, { id: 'lane-again' }, spec(list2));
      expectOnePerTarget(again, list2);
      expect(ex.threadCount).toBe(2);
    } finally {
      await ex.close();
      await counting.close();
    }
  }, 60_000);

  describe('with a BatchSink (run -o jsonl|summary|groups)', () => {
    /**
     * A consumer as `fleetprobe run` is one: batches and results written in the order taken and summarised.
     * `lines`: the text written; `summary`: fed the batches' outcomes and the results.
     */
    function consumer(withLines: boolean) {
      const text: string[] = [];
      const summary = new OutcomeSummary();
      let batches = 0;
      let results = 0;
      const taken: Uint8Array[] = [];
      const sink: BatchSink = {
        lines: withLines,
        take: async (batch) => {
          batches++;
          taken.push(batch.lines);
          text.push(new TextDecoder().decode(batch.lines));
          summary.addBatch(batch.outcomes);
        },
      };
      return {
        sink,
        summary,
        take(result: Result) {
          results++;
          text.push(resultLine(result));
          summary.add(result);
        },
        get lines() {
          return text.join('');
        },
        get batches() {
          return batches;
        },
        /** The lines of each batch as taken: given back to their thread (detached) unless a thread's last. */
        taken,
        get results() {
          return results;
        },
      };
    }

    /** The summary of the results as written, one by one in their order: what the object path shows. */
    function expectSummaryOf(written: readonly Result[], summary: OutcomeSummary): void {
      const expected = new OutcomeSummary();
      for (const r of written) expected.add(r);
      expect(formatSummary(summary, 1000, false)).toBe(formatSummary(expected, 1000, false));
      expect(formatGroups(summary)).toBe(formatGroups(expected));
      expect(summary.counts).toEqual(expected.counts);
    }

    const parsed = (text: string) =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Result);

    it.each(LANES)(
      'hands it every batch from $lanes: the lines, summarised as one by one',
      async ({ mainLane }) => {
        const list = addresses(200);
        const ex = executor(mainLane);
        const c = consumer(true);
        try {
          for await (const r of ex.execute(
            { id: 'thread-sink-1' },
            spec(list),
            new AbortController().signal,
            c.sink,
          ))
            c.take(r);
          expect(c.results).toBe(0);
          expect(c.batches).toBeGreaterThan(1);
          const written = parsed(c.lines);
          expectOnePerTarget(written, list);
          // Each line is its result's JSON: what the object path writes.
          expect(c.lines).toBe(written.map((r) => `${JSON.stringify(r)}\n`).join(''));
          expect(written.find((r) => r.target === LISTENING)?.status).toBe('pass');
          expectSummaryOf(written, c.summary);
          expect(c.summary.counts).toMatchObject({ pass: 1, error: 199 });
          expect(ex.progress('thread-sink-1')).toMatchObject({ done: 200, counts: { pass: 1, error: 199 } });
          // Every batch's line buffer went back to its thread once taken, but each thread's last.
          expect(c.taken.filter((l) => l.byteLength > 0).length).toBeLessThanOrEqual(ex.threadCount);
        } finally {
          await ex.close();
        }
      },
      60_000,
    );

    it('under cancel: one line per target, batches and cancelled results made here, summarised in order', async () => {
      // Paced at 100/s, the run would take 6 s: cancelled after 60 results, mid-run for sure.
      const list = addresses(600);
      const ex = executor();
      const c = consumer(true);
      const controller = new AbortController();
      const sink: BatchSink = {
        lines: true,
        take: async (batch) => {
          await c.sink.take(batch);
          if (parsed(c.lines).length >= 60) controller.abort();
        },
      };
      try {
        for await (const r of ex.execute(
          { id: 'thread-sink-2' },
          spec(list, { ratePerSec: 100 }),
          controller.signal,
          sink,
        ))
          c.take(r);
        const written = parsed(c.lines);
        expectOnePerTarget(written, list);
        expect(c.lines).toBe(written.map((r) => `${JSON.stringify(r)}\n`).join(''));
        // Both ways were taken: batches from the threads, and targets never sent cancelled here.
        expect(c.batches).toBeGreaterThan(0);
        expect(c.results).toBeGreaterThan(0);
        expect(written.filter((r) => r.status === 'cancelled').length).toBeGreaterThan(c.results - 1);
        expectSummaryOf(written, c.summary);
        expect(ex.progress('thread-sink-2')?.done).toBe(600);
      } finally {
        await ex.close();
      }
    }, 60_000);

    it('holds the threads back while the sink takes nothing, then hands over every result once', async () => {
      // Every target passes on a listener that counts the checks started; the sink holds its first batch.
      const counting = await countingListener('0.0.0.0');
      const list = addresses(1000);
      const ex = executor();
      const c = consumer(true);
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      let first: number | undefined;
      const sink: BatchSink = {
        lines: true,
        take: async (batch) => {
          first ??= batchSize(batch.outcomes);
          await released;
          await c.sink.take(batch);
        },
      };
      const running = (async () => {
        for await (const r of ex.execute(
          { id: 'thread-sink-held' },
          spec(list, { args: tcpCheck.args.parse({ port: counting.port }) }),
          new AbortController().signal,
          sink,
        ))
          c.take(r);
      })();
      try {
        // Until no check has started for 1 s: the threads are held (the bounds only catch a hang).
        let held = counting.accepted();
        for (let still = 0, i = 0; (first === undefined || still < 20) && i < 1200; i++) {
          await sleep(50);
          still = counting.accepted() === held ? still + 1 : 0;
          held = counting.accepted();
        }
        // Started, at most: the batch taken; per thread, the batches sent unacknowledged and the targets sent
        // without a result back (two shards: main sends one more while one shard's worth is outstanding).
        // A batch holds results of targets outstanding at once: at most two shards' worth.
        expect(first).toBeDefined();
        expect(held).toBeLessThanOrEqual((first ?? 0) + 2 * (BATCH_CREDIT + 1) * 2 * SHARD_SIZE);
        release();
        await running;
        const written = parsed(c.lines);
        expectOnePerTarget(written, list);
        expect(written.every((r) => r.status === 'pass')).toBe(true);
      } finally {
        release();
        await running.catch(() => {}); // failed above already
        await ex.close();
        await counting.close();
      }
    }, 120_000);

    it('sends no lines when the sink wants none, and the same outcomes', async () => {
      const list = addresses(200);
      const ex = executor();
      const c = consumer(false);
      try {
        for await (const r of ex.execute(
          { id: 'thread-sink-3' },
          spec(list),
          new AbortController().signal,
          c.sink,
        ))
          c.take(r);
        expect(c.lines).toBe('');
        expect(c.summary.counts).toMatchObject({ pass: 1, error: 199 });
        const [group] = c.summary.groups();
        expect(group).toMatchObject({ status: 'error', count: 199, targets: ['127.31.40.[0-6,8-199]'] });
      } finally {
        await ex.close();
      }
    }, 60_000);
  });

  describe('threads started early (startThread)', () => {
    const data = { logLevel: 'warn' };
    const exited = (t: StartedThread) => new Promise<void>((r) => t.worker.once('exit', () => r()));

    it("uses one as the worker thread beside main's lane", async () => {
      const started = [startThread(data), startThread(data)];
      const gone = exited(started[1]!);
      const ex = new ThreadExecutor({
        threads: 2,
        mainLane: true,
        shardSize: 16,
        inProcessBelow: 0,
        started,
      });
      try {
        await gone; // one worker thread beside main's lane: the other is not needed
        const list = addresses(100);
        const results = await drain(ex, { id: 'early-lane' }, spec(list));
        expectOnePerTarget(results, list);
        expect(ex.threadCount).toBe(2);
        expect(started[0]!.usable).toBe(true);
      } finally {
        await ex.close();
      }
    }, 60_000);

    it('uses them as its threads and terminates them on close', async () => {
      const started = [startThread(data), startThread(data)];
      const ex = new ThreadExecutor({ threads: 2, shardSize: 16, inProcessBelow: 0, started });
      const gone = started.map(exited);
      try {
        const list = addresses(100);
        const results = await drain(ex, { id: 'early-1' }, spec(list));
        expectOnePerTarget(results, list);
        expect(ex.threadCount).toBe(2);
        expect(started.every((t) => t.usable)).toBe(true);
      } finally {
        await ex.close();
      }
      await Promise.all(gone);
      expect(started.some((t) => t.usable)).toBe(false);
    }, 60_000);

    it('terminates threads started with other data, or beyond its thread count', async () => {
      const other = startThread({ logLevel: 'debug' });
      const extra = [startThread(data), startThread(data)];
      const gone = [exited(other), exited(extra[1]!)];
      const ex = new ThreadExecutor({
        threads: 1,
        shardSize: 16,
        inProcessBelow: 0,
        started: [other, ...extra],
      });
      try {
        await Promise.all(gone); // before any run
        expect(extra[0]!.usable).toBe(true);
      } finally {
        await ex.close();
      }
    }, 30_000);

    it('terminates them when the run stays in this thread', async () => {
      const started = [startThread(data), startThread(data)];
      const gone = started.map(exited);
      const ex = new ThreadExecutor({ threads: 2, started });
      try {
        const list = addresses(20); // below the default threshold
        const results = await drain(ex, { id: 'early-small' }, spec(list));
        expectOnePerTarget(results, list);
        await Promise.all(gone);
        expect(ex.threadCount).toBe(0);
      } finally {
        await ex.close();
      }
    }, 30_000);

    it('starts a new thread in place of one that exited before the run', async () => {
      const dead = startThread(data);
      await dead.worker.terminate();
      expect(dead.usable).toBe(false);
      const ex = new ThreadExecutor({ threads: 1, shardSize: 16, inProcessBelow: 0, started: [dead] });
      try {
        const list = addresses(40);
        const results = await drain(ex, { id: 'early-dead' }, spec(list));
        expectOnePerTarget(results, list);
        expect(ex.threadCount).toBe(1);
      } finally {
        await ex.close();
      }
    }, 30_000);
  });
});
