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
} from './thread-protocol.js';
import { pickCheckExport, type UserCheck } from './validate-check-export.js';

/*
 * The piscina task handler: runs one user check inside a worker thread. The module is imported once per
 * worker (and per path). `ctx.signal` aborts at the deadline (a timer here) or when the parent says so over
 * the task's port (cancel). The hard stop is not here: the parent terminates this thread when a check
 * ignores its signal past the deadline.
 */

const checks = new Map<string, Promise<UserCheck>>();
const loggers = new Map<string, Logger>();

function loadCheck(task: ThreadTask): Promise<UserCheck> {
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

export default async function runCheckTask(task: ThreadTask): Promise<ThreadReply> {
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
