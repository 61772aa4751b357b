import { threadId } from 'node:worker_threads';
import { type Logger, pino } from 'pino';
import { createDeadline } from '../../core/deadline.js';
import { FleetprobeError, isFleetprobeError } from '../../core/errors.js';
import type { CheckContext, Observation } from '../check.js';
import { validateObservation } from '../observation.js';
import { importUserModule } from './import-module.js';
import {
  deserializeError,
  type SerializedError,
  serializeError,
  type ThreadReply,
  type ThreadTask,
  type WarmTask,
} from './thread-protocol.js';
import { pickCheckExport, type UserCheck } from './validate-check-export.js';

/*
 * The piscina task handler: runs one user check inside a worker thread. The module is imported once per
 * worker (and per path). `ctx.signal` aborts at the deadline (a timer here) or when the parent says so over
 * the task's port (cancel). The hard stop is not here: the parent terminates this thread when a check
 * ignores its signal past the deadline.
 */

// In Node 20 (V8), missing from the TypeScript lib this project targets.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, ms: number): { value: Promise<string> | string };
  }
).waitAsync;

/** Longest a warm-up task waits for the pool's other threads to arrive. */
const WARM_BARRIER_MS = 30_000;

const checks = new Map<string, Promise<UserCheck>>();
const loggers = new Map<string, Logger>();

function loadCheck(task: ThreadTask | WarmTask): Promise<UserCheck> {
  let check = checks.get(task.modulePath);
  if (!check) {
    check = importUserModule(task.modulePath, task.file).then((mod) => pickCheckExport(mod, task.file));
    check.catch(() => checks.delete(task.modulePath));
    checks.set(task.modulePath, check);
  }
  return check;
}

function loggerFor(level: string): Logger {
  let log = loggers.get(level);
  if (!log) {
    // Synchronous writes to fd 2: a thread that is terminated mid-check loses no buffered line.
    log = pino({ level, base: { thread: threadId } }, pino.destination({ fd: 2, sync: true }));
    loggers.set(level, log);
  }
  return log;
}

async function unavailableResolve(): Promise<string[]> {
  throw new FleetprobeError(
    'FP_THREAD_UNSUPPORTED',
    'ctx.resolve is not available in a thread-isolated check (targets reach run() already resolved)',
  );
}

export default async function runCheckTask(task: ThreadTask | WarmTask): Promise<ThreadReply | undefined> {
  if ('warm' in task) {
    await loadCheck(task).catch(() => undefined); // a failed import is the checks' to report
    Atomics.add(task.arrived, 0, 1);
    Atomics.notify(task.arrived, 0);
    const until = Date.now() + WARM_BARRIER_MS;
    for (let n = Atomics.load(task.arrived, 0); n < task.count && Date.now() < until; ) {
      await waitAsync(task.arrived, 0, n, until - Date.now()).value;
      n = Atomics.load(task.arrived, 0);
    }
    return undefined;
  }
  const parent = new AbortController();
  task.abortPort.once('message', (e: SerializedError) => parent.abort(deserializeError(e, task.timeoutMs)));
  const deadline = createDeadline(Math.max(0, task.deadline - Date.now()), parent.signal);
  try {
    const check = await loadCheck(task);
    const log = loggerFor(task.logLevel).child({ check: check.name });
    const ctx: CheckContext = {
      signal: deadline.signal,
      deadline: task.deadline,
      timeoutMs: task.timeoutMs,
      log,
      resolve: unavailableResolve,
    };
    let observation: Observation;
    try {
      // Keeps only the contract's fields: anything else might not survive structured cloning.
      observation = validateObservation(await check.run(task.target, task.args, ctx), check.name);
    } catch (err) {
      if (!isFleetprobeError(err, 'FP_BAD_OBSERVATION')) throw err;
      return { ok: false, error: { name: 'Error', message: err.message, code: 'FP_THREAD_CHECK' } };
    }
    const reply: ThreadReply = { ok: true, observation };
    try {
      structuredClone(reply);
    } catch (err) {
      return {
        ok: false,
        error: {
          name: 'Error',
          message: `observation cannot cross threads: ${(err as Error).message}`,
          code: 'FP_THREAD_CHECK',
        },
      };
    }
    return reply;
  } catch (err) {
    return { ok: false, error: serializeError(err) };
  } finally {
    deadline.dispose();
    task.abortPort.close();
  }
}
