import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/checks/check.js';
import type { Result } from '../../src/engine/result.js';
import { startRun } from '../../src/engine/run.js';
import type { Target } from '../../src/targets/target.js';

const targets = (n: number, tracker?: { read: number; closed: boolean }): AsyncIterable<Target> =>
  (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        if (tracker) tracker.read = i + 1;
        yield { address: `127.0.${i >> 8}.${i & 255}`, labels: {} };
      }
    } finally {
      if (tracker) tracker.closed = true;
    }
  })();

/** A check scripted per target address: the engine is the subject here, not the protocol. */
function scriptedCheck(behaviour: (t: Target, signal: AbortSignal, attempt: number) => Promise<Observation>) {
  const attempts = new Map<string, number>();
  return defineCheck({
    name: 'scripted',
    description: 'test',
    args: z.object({}),
    timeoutMs: 1000,
    run: (t, _args, ctx) => {
      const n = (attempts.get(t.address!) ?? 0) + 1;
      attempts.set(t.address!, n);
      return behaviour(t, ctx.signal, n);
    },
  });
}

const hang = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

async function collect(it: AsyncIterable<Result>): Promise<Result[]> {
  const out: Result[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('startRun', () => {
  it('yields exactly one result per target with the contract fields', async () => {
    const check = scriptedCheck(async (t) =>
      t.address!.endsWith('.3')
        ? { status: 'fail', message: 'nope' }
        : { status: 'pass', message: 'ok', data: { x: 1 } },
    );
    const run = startRun({ check, args: {}, targets: targets(500), total: 500, concurrency: 16 });
    const results = await collect(run.results());
    expect(results).toHaveLength(500);
    expect(new Set(results.map((r) => r.target)).size).toBe(500);
    const r = results.find((x) => x.target === '127.0.0.3')!;
    expect(r).toMatchObject({
      run: run.id,
      check: 'scripted',
      status: 'fail',
      message: 'nope',
      attempts: 1,
      name: null,
    });
    expect(Number.isNaN(Date.parse(r.startedAt))).toBe(false);
    expect(run.progress()).toMatchObject({ done: 500, inFlight: 0, total: 500 });
    expect(run.progress().counts.fail).toBe(2); // 127.0.0.3 and 127.0.1.3
  });

  it('never runs more than `concurrency` checks at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const check = scriptedCheck(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return { status: 'pass', message: 'ok' };
    });
    await collect(startRun({ check, args: {}, targets: targets(300), concurrency: 7 }).results());
    expect(peak).toBe(7);
  });

  it('turns a fired deadline into `timeout` and aborts the check', async () => {
    let aborted = 0;
    const check = scriptedCheck((_t, signal) => {
      signal.addEventListener('abort', () => aborted++);
      return hang(signal);
    });
    // Long enough that a busy machine's late timers stay below the overload verdict (see overload.ts):
    // at 50 ms, a timer 25 ms late twice already makes it FP_CLIENT_OVERLOAD, rightly.
    const results = await collect(
      startRun({ check, args: {}, targets: targets(3), timeoutMs: 2000 }).results(),
    );
    expect(results.map((r) => r.status)).toEqual(['timeout', 'timeout', 'timeout']);
    expect(aborted).toBeGreaterThanOrEqual(3); // a check re-run after a late timer is aborted again
  });

  it('turns a thrown exception into `error` with its message', async () => {
    const check = scriptedCheck(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    });
    const [r] = await collect(startRun({ check, args: {}, targets: targets(1) }).results());
    expect(r?.status).toBe('error');
    expect(r?.message).toContain('ECONNREFUSED');
  });

  it('retries error and timeout, not fail', async () => {
    const check = scriptedCheck(async (t, _s, attempt) => {
      if (t.address === '127.0.0.0')
        return attempt < 3 ? { status: 'error', message: 'flaky' } : { status: 'pass', message: 'ok' };
      return { status: 'fail', message: 'no' };
    });
    const results = await collect(startRun({ check, args: {}, targets: targets(2), retries: 5 }).results());
    const byTarget = Object.fromEntries(results.map((r) => [r.target, r]));
    expect(byTarget['127.0.0.0']).toMatchObject({ status: 'pass', attempts: 3 });
    expect(byTarget['127.0.0.1']).toMatchObject({ status: 'fail', attempts: 1 });
  });

  it('cancel mid-run: one result per target, in-flight ones cancelled', async () => {
    const check = scriptedCheck((_t, signal) => hang(signal));
    const run = startRun({ check, args: {}, targets: targets(100), concurrency: 10, timeoutMs: 60_000 });
    const iterator = run.results();
    const first = iterator.next();
    while (run.progress().inFlight < 10) await new Promise((r) => setImmediate(r));
    run.cancel();
    const results = [(await first).value as Result];
    for await (const r of iterator) results.push(r);
    expect(results).toHaveLength(100);
    expect(results.every((r) => r.status === 'cancelled')).toBe(true);
  });

  it('breaking out of results cancels the run and closes the target source', async () => {
    const tracker = { read: 0, closed: false };
    const check = scriptedCheck(async () => ({ status: 'pass', message: 'ok' }));
    const run = startRun({ check, args: {}, targets: targets(1_000_000, tracker), concurrency: 8 });
    for await (const _ of run.results()) break;
    expect(tracker.closed).toBe(true);
    expect(tracker.read).toBeLessThan(1000);
  });

  it('a parent signal cancels the run', async () => {
    const controller = new AbortController();
    const check = scriptedCheck((_t, signal) => hang(signal));
    const run = startRun({
      check,
      args: {},
      targets: targets(5),
      signal: controller.signal,
      timeoutMs: 60_000,
    });
    setImmediate(() => controller.abort());
    const results = await collect(run.results());
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('cancelled'));
  });

  it('resolves names for checks that need an address and reports unresolvable ones as error', async () => {
    const seen: string[] = [];
    const check = scriptedCheck(async (t) => {
      seen.push(t.address!);
      return { status: 'pass', message: 'ok' };
    });
    const named = (async function* () {
      yield { name: 'a.test', labels: {} } as Target;
      yield { name: 'missing.test', labels: {} } as Target;
    })();
    const resolve = async (name: string) => (name === 'a.test' ? ['127.0.0.9'] : []);
    const results = await collect(startRun({ check, args: {}, targets: named, resolve }).results());
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName['a.test']).toMatchObject({
      status: 'pass',
      target: 'a.test',
      data: { address: '127.0.0.9' },
    });
    expect(byName['missing.test']?.status).toBe('error');
    expect(seen).toEqual(['127.0.0.9']);
  });

  it('a failing target source ends the stream with its error after cancelling the rest', async () => {
    const check = scriptedCheck(async () => ({ status: 'pass', message: 'ok' }));
    const broken = (async function* () {
      yield { address: '127.0.0.1', labels: {} } as Target;
      throw new Error('disk gone');
    })();
    await expect(collect(startRun({ check, args: {}, targets: broken }).results())).rejects.toThrow(
      'disk gone',
    );
  });

  it('results() can be iterated only once', async () => {
    const check = scriptedCheck(async () => ({ status: 'pass', message: 'ok' }));
    const run = startRun({ check, args: {}, targets: targets(1) });
    await collect(run.results());
    await expect(collect(run.results())).rejects.toThrow(/only once/);
  });

  it('a failure in the engine itself still gives the target its one result (error) and frees its slot', async () => {
    const check = scriptedCheck(async (t) => {
      if (t.address !== '127.0.0.1') return { status: 'pass', message: 'ok' };
      // Reading `data.port` (the result's port) throws: a stand-in for a bug between the check and the result.
      const data = {
        get port(): number {
          throw new Error('bad data');
        },
      };
      return { status: 'pass', message: 'ok', data };
    });
    const results = await collect(
      startRun({ check, args: {}, targets: targets(4), concurrency: 1 }).results(),
    );
    expect(results).toHaveLength(4);
    const broken = results.find((r) => r.target === '127.0.0.1');
    expect(broken).toMatchObject({ status: 'error', attempts: 1 });
    expect(broken!.message).toMatch(/^engine failure: .*bad data/);
  });

  it('results() returned before its first step runs nothing', async () => {
    let calls = 0;
    const check = scriptedCheck(async () => {
      calls++;
      return { status: 'pass', message: 'ok' };
    });
    const tracker = { read: 0, closed: false };
    const iterator = startRun({ check, args: {}, targets: targets(10, tracker) }).results();
    expect(await iterator.return(undefined)).toEqual({ value: undefined, done: true });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(calls).toBe(0);
    expect(tracker.read).toBe(0);
  });

  it('sinkTo: the sink takes results as they are made; what it refuses comes through results(), within the bound', async () => {
    let started = 0;
    const check = scriptedCheck(async () => {
      started++;
      return { status: 'pass', message: 'ok' };
    });
    const run = startRun({ check, args: {}, targets: targets(300), total: 300, concurrency: 8 });
    const sunk: Result[] = [];
    let room = 50;
    run.sinkTo?.((r) => {
      if (room === 0) return false;
      room--;
      sunk.push(r);
      return true;
    });
    const it = run.results();
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(sunk).toHaveLength(50);
    // Nobody takes more: the run stops at its bound, one result in hand, 8 buffered, 8 jobs waiting to push.
    for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
    expect(started).toBeLessThanOrEqual(50 + 1 + 8 + 8);
    expect(run.progress().inFlight).toBe(8);
    room = Number.POSITIVE_INFINITY;
    const iterated = [first.value as Result, ...(await collect(it))];
    const all = [...sunk, ...iterated];
    expect(all).toHaveLength(300);
    expect(new Set(all.map((r) => r.target)).size).toBe(300);
    // Once the buffer drained, the sink took the rest itself.
    expect(sunk.length).toBeGreaterThan(50);
    expect(run.progress()).toMatchObject({ done: 300, inFlight: 0 });
  });
});
