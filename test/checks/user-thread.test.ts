import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import {
  closeThreadPools,
  getThreadPool,
  loadCheckModule,
  threadPoolSize,
  type UserCheck,
} from '../../src/checks/user/index.js';
import { THREAD_POOL_SIZE } from '../../src/checks/user/thread-pool.js';
import { createDeadline, type Deadline } from '../../src/core/deadline.js';
import { CancelledError, DeadlineError } from '../../src/core/errors.js';
import { startRun } from '../../src/engine/run.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/user-checks/${name}`, import.meta.url));
const log = pino({ level: 'silent' });
const target = { address: '127.0.0.1', labels: {} };

function context(d: Deadline): CheckContext {
  return { signal: d.signal, deadline: d.at, timeoutMs: d.timeoutMs, log, resolve: async () => [] };
}

async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe('thread-isolated user checks', () => {
  let check: UserCheck;
  // Every worker thread the pool had at some point: all must be gone after closeThreadPools().
  const seenThreads = new Set<Worker>();

  beforeAll(async () => {
    check = await loadCheckModule(fixture('thread-check.ts'));
  });

  afterAll(async () => {
    expect(seenThreads.size).toBeGreaterThan(0);
    await closeThreadPools();
    expect(threadPoolSize()).toBe(0);
    // A worker that is no longer running reports threadId -1.
    for (const w of seenThreads) expect(w.threadId).toBe(-1);
  });

  async function run(mode: string, timeoutMs = 10_000, extra: Record<string, unknown> = {}) {
    const d = createDeadline(timeoutMs);
    try {
      return await settle(check.run(target, check.args.parse({ mode, ...extra }), context(d)));
    } finally {
      d.dispose();
      for (const w of getThreadPool().threads) seenThreads.add(w);
    }
  }

  /** Polls `cond` until true (a handshake on observable state, not a sleep); fails after 5 s. */
  async function until(cond: () => boolean, what: string): Promise<void> {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > 5_000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Resolves once the pool has completed `count` tasks in all. */
  function poolCompleted(count: number): Promise<void> {
    return until(() => getThreadPool().completed >= count, `${count} completed pool tasks`);
  }

  it('runs the check in a worker thread, not in the caller', async () => {
    expect(check.isolate).toBe('thread');
    const { value, error } = await run('pass');
    expect(error).toBeUndefined();
    expect(value?.status).toBe('pass');
    expect(value?.data?.threadId).toBeGreaterThan(0);
  });

  it('terminates a check that spins forever at its deadline, without blocking the event loop', async () => {
    // Warm: a thread with the module loaded already exists, so the spin starts at once.
    expect((await run('pass')).value?.status).toBe('pass');
    const pool = getThreadPool();
    const destroyed = new Promise<number>((resolve) =>
      pool.once('workerDestroy', (w: { id: number }) => resolve(w.id)),
    );
    const started = new Int32Array(new SharedArrayBuffer(4));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    try {
      const { error } = await run('spin', 300, { started });
      const elapsedMs = performance.now() - t0;
      expect(error).toBeInstanceOf(DeadlineError);
      expect((error as DeadlineError).code).toBe('FP_DEADLINE');
      expect(elapsedMs).toBeLessThan(5_000);
      // The spin really ran (in another thread) while this loop kept ticking.
      expect(Atomics.load(started, 0)).toBeGreaterThan(0);
      expect(ticks).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(ticker);
    }
    // The thread that ignored its signal is terminated (after the short grace), not abandoned.
    expect(await destroyed).toBe(Atomics.load(started, 0));
    // The pool still serves checks afterwards.
    expect((await run('pass')).value?.status).toBe('pass');
  });

  it('a check that honours its signal stops at the deadline and its thread survives', async () => {
    expect((await run('pass')).value?.status).toBe('pass');
    const pool = getThreadPool();
    let destroyedCount = 0;
    const onDestroy = () => destroyedCount++;
    pool.on('workerDestroy', onDestroy);
    try {
      const before = pool.completed;
      const { error } = await run('wait', 200);
      expect(error).toBeInstanceOf(DeadlineError);
      // The worker settles the task by itself (its own signal fired), which cancels the hard kill.
      await poolCompleted(before + 1);
      await new Promise((resolve) => setImmediate(resolve));
      // Next task on the pool: the worker did settle the task by itself.
      expect((await run('pass')).value?.status).toBe('pass');
      expect(destroyedCount).toBe(0);
    } finally {
      pool.off('workerDestroy', onDestroy);
    }
  });

  it('a cancel reaches the check in its thread: rejected with the CancelledError, thread kept', async () => {
    expect((await run('pass')).value?.status).toBe('pass');
    const pool = getThreadPool();
    let destroyedCount = 0;
    const onDestroy = () => destroyedCount++;
    pool.on('workerDestroy', onDestroy);
    const parent = new AbortController();
    const d = createDeadline(10_000, parent.signal);
    const started = new Int32Array(new SharedArrayBuffer(4));
    try {
      const before = pool.completed;
      const p = settle(check.run(target, check.args.parse({ mode: 'wait', started }), context(d)));
      // Handshake: cancel only once run() is waiting inside the thread.
      await until(() => Atomics.load(started, 0) !== 0, 'run() to start in its thread');
      parent.abort(new CancelledError());
      const { error } = await p;
      expect(error).toBeInstanceOf(CancelledError);
      await poolCompleted(before + 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(destroyedCount).toBe(0);
    } finally {
      d.dispose();
      pool.off('workerDestroy', onDestroy);
    }
  });

  it('an error thrown in the thread keeps its message and code', async () => {
    const { error } = await run('throw');
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('boom from the thread');
    expect((error as Error & { code?: string }).code).toBe('E_FIXTURE');
  });

  it('an observation outside the contract is rejected with FP_THREAD_CHECK', async () => {
    const { error } = await run('bad-observation');
    expect((error as { code?: string }).code).toBe('FP_THREAD_CHECK');
  });

  it('arguments that cannot cross threads are rejected with FP_THREAD_CHECK', async () => {
    const d = createDeadline(1_000);
    try {
      const { error } = await settle(check.run(target, { mode: 'pass', fn: () => 1 }, context(d)));
      expect((error as { code?: string }).code).toBe('FP_THREAD_CHECK');
    } finally {
      d.dispose();
    }
  });

  it('a run keeps no more checks in flight than the pool has threads: none spends its deadline queued', async () => {
    expect(check.maxInFlight).toBe(THREAD_POOL_SIZE);
    // Queued in the pool, the last of these would wait 7 x 600 ms, well past their 3 s deadline.
    const count = 8 * THREAD_POOL_SIZE;
    const targets = Array.from({ length: count }, (_, i) => ({ address: `127.0.0.${i + 1}`, labels: {} }));
    const execution = startRun({
      check,
      args: check.args.parse({ mode: 'sleep', sleepMs: 600 }),
      targets: (async function* () {
        yield* targets;
      })(),
      concurrency: 256,
      timeoutMs: 3_000,
      log,
    });
    const statuses: string[] = [];
    for await (const r of execution.results()) statuses.push(r.status);
    expect(statuses).toEqual(Array(count).fill('pass'));
    expect(execution.progress().overload?.concurrencyCeiling).toBe(THREAD_POOL_SIZE);
  });

  it('rejects at once with the reason when the signal is already aborted', async () => {
    const parent = new AbortController();
    parent.abort(new CancelledError());
    const d = createDeadline(1_000, parent.signal);
    try {
      const { error } = await settle(check.run(target, { mode: 'pass' }, context(d)));
      expect(error).toBeInstanceOf(CancelledError);
    } finally {
      d.dispose();
    }
  });
});
