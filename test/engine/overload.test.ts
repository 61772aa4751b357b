import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/checks/check.js';
import { httpArgs, httpCheck } from '../../src/checks/http/index.js';
import { formatOverload } from '../../src/cli/format-summary.js';
import {
  ClientOverloadError,
  isClientOverloadResult,
  renderOverloadMetrics,
} from '../../src/engine/overload.js';
import type { Result } from '../../src/engine/result.js';
import { startRun } from '../../src/engine/run.js';
import type { RunProgress } from '../../src/engine/types.js';

/** What a blocked event loop looks like: a synchronous busy-wait. */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function listen(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

async function runOne(
  port: number,
  timeoutMs: number,
): Promise<{ results: Result[]; progress: RunProgress }> {
  const run = startRun({
    check: httpCheck,
    args: httpArgs.parse({ port }),
    targets: (async function* () {
      yield { address: '127.0.0.1', labels: {} };
    })(),
    timeoutMs,
  });
  const out: Result[] = [];
  for await (const r of run.results()) out.push(r);
  return { results: out, progress: run.progress() };
}

describe('a deadline the loop was blocked past', () => {
  it('is not the target timeout when the answer was waiting in the socket', async () => {
    const TIMEOUT_MS = 300;
    // The server answers, then (same process) blocks the loop 3x past the client's deadline: when the loop
    // wakes, the answer waits in the client's socket while the deadline timer is long overdue.
    const server = http.createServer((_req, res) => {
      res.end('ok');
      blockLoop(3 * TIMEOUT_MS);
    });
    const port = await listen(server);
    const { results, progress } = await runOne(port, TIMEOUT_MS);
    expect(results[0]).toMatchObject({ status: 'pass', attempts: 1 });
    expect(progress.overload).toMatchObject({ answersReadAfterStall: 1, rechecks: 0 });
    expect(progress.overload!.stalls).toBeGreaterThanOrEqual(1);
    expect(formatOverload(progress.overload!)).toMatch(/event loop stalled .*1 answers read after a late/);
  });

  it('is re-run once when the target did not answer, and is the client overload when stalled again', async () => {
    const TIMEOUT_MS = 200;
    let connections = 0;
    // Accepts, never answers, and blocks the loop past the deadline on every connection.
    const server = net.createServer((socket) => {
      connections++;
      socket.on('error', () => {});
      blockLoop(3 * TIMEOUT_MS);
    });
    const port = await listen(server);
    const { results, progress } = await runOne(port, TIMEOUT_MS);
    expect(connections).toBe(2);
    expect(results[0]).toMatchObject({ status: 'error', attempts: 2 });
    expect(results[0]!.message).toMatch(/^client overloaded/);
    expect(progress.overload).toMatchObject({ rechecks: 1, overloadErrors: 1 });
    const metrics = renderOverloadMetrics();
    expect(metrics).toMatch(/^fleetprobe_checks_client_overload_total [1-9]/m);
    expect(metrics).toMatch(/^fleetprobe_event_loop_stalls_total [1-9]/m);
  });

  it('a silent target is a timeout', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.on('error', () => {});
    });
    const port = await listen(server);
    const [result] = (await runOne(port, 1000)).results;
    // (A re-run happens only when this busy machine itself delayed the deadline timer by 50 ms or more.)
    expect(result).toMatchObject({ status: 'timeout', attempts: connections });
  });

  it('a timeout the check saw itself, after the loop was blocked for a quarter of its budget, is re-run', async () => {
    // Like the dns check: it reports `timeout` itself when none of its own attempts got a reply; here its
    // wait was spent with the loop blocked (800 ms of a 2 s budget), so the reply may have been waiting.
    const { result, progress } = await runSelfTiming(async (call) => {
      if (call > 1) return { status: 'pass', message: 'answered' };
      await sleep(10);
      blockLoop(800);
      await sleep(120); // the loop monitor's sampler runs and sees the gap
      return { status: 'timeout', message: 'no reply' };
    });
    expect(result).toMatchObject({ status: 'pass', attempts: 2 });
    expect(progress.overload).toMatchObject({ rechecks: 1 });
  });

  it('a timeout the check saw itself with the loop free stands', async () => {
    const { result } = await runSelfTiming(async () => {
      await sleep(150);
      return { status: 'timeout', message: 'no reply' };
    });
    expect(result).toMatchObject({ status: 'timeout', message: 'no reply' });
  });
});

/** One target through a check that decides its own timeout (`run` is told which call this is), 2 s budget. */
async function runSelfTiming(
  run: (call: number) => Promise<Observation>,
): Promise<{ result: Result | undefined; progress: RunProgress }> {
  let calls = 0;
  const check = defineCheck({
    name: 'self-timing',
    description: 'test',
    args: z.object({}),
    timeoutMs: 2000,
    run: () => run(++calls),
  });
  const execution = startRun({ check, args: {}, targets: one(), timeoutMs: 2000 });
  const results: Result[] = [];
  for await (const r of execution.results()) results.push(r);
  return { result: results[0], progress: execution.progress() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const one = () =>
  (async function* () {
    yield { address: '127.0.0.1', labels: {} };
  })();

describe('isClientOverloadResult', () => {
  it("tells the engine's client-overload error from any other result", () => {
    const message = new ClientOverloadError().message;
    expect(isClientOverloadResult({ status: 'error', message })).toBe(true);
    expect(isClientOverloadResult({ status: 'timeout', message })).toBe(false);
    expect(isClientOverloadResult({ status: 'error', message: 'connect ECONNRESET' })).toBe(false);
  });
});
