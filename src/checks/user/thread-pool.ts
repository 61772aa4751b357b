import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { abortPromise } from '../../core/deadline.js';
import { FleetprobeError } from '../../core/errors.js';
import { threadModule } from '../../core/thread-module.js';
import type { Target } from '../../targets/target.js';
import type { CheckContext, Observation } from '../check.js';
import {
  deserializeError,
  serializeError,
  type ThreadReply,
  type ThreadTask,
  type WarmTask,
} from './thread-protocol.js';

/**
 * After the parent's signal aborts, how long a running thread check gets to settle by itself (its own
 * signal fired at the same deadline) before its worker thread is terminated. The caller's promise does not
 * wait for this: it rejects with `ctx.signal.reason` at once. The grace only saves a thread restart
 * (a new thread, tsx and the user module loaded again) for checks that honour their signal.
 */
export const THREAD_KILL_GRACE_MS = 200;

/** Idle worker threads exit after this long; an idle pool never keeps the process alive (threads are unref'd). */
export const THREAD_IDLE_TIMEOUT_MS = 2_000;

/** Thread-isolation failures of fleetprobe's own making (arguments not cloneable, invalid reply, crashed worker). */
export class ThreadCheckError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_THREAD_CHECK', message, options);
  }
}

/** Threads in the pool, each running one check at a time. */
export const THREAD_POOL_SIZE = availableParallelism();

let pool: Piscina | undefined;

/**
 * The process-wide pool for thread-isolated checks, created on first use: up to
 * `THREAD_POOL_SIZE` (`os.availableParallelism()`) threads, none kept when idle. Closed by `closeThreadPools()`.
 */
export function getThreadPool(): Piscina {
  pool ??= createThreadPool();
  return pool;
}

function createThreadPool(): Piscina {
  const entry = threadModule(import.meta.url, './check-worker.js');
  return new Piscina({
    filename: entry.url.href,
    argv: entry.argv,
    minThreads: 0,
    maxThreads: THREAD_POOL_SIZE,
    idleTimeout: THREAD_IDLE_TIMEOUT_MS,
  });
}

/** Live worker threads of the pool (0 when there is no pool). For tests and diagnostics. */
export function threadPoolSize(): number {
  return pool?.threads.length ?? 0;
}

/**
 * Destroys the thread pool: running thread checks are terminated, queued ones are dropped (their callers
 * have already been answered or get a `ThreadCheckError`). Call once at the end of a run (CLI) or on
 * shutdown (server, worker). Safe to call when no pool exists; a later thread check creates a new pool.
 */
export async function closeThreadPools(): Promise<void> {
  const current = pool;
  pool = undefined;
  await current?.destroy();
}

/**
 * Starts the pool's threads and has each import the module, before a run's first check: a thread's start
 * (and, from sources, tsx) can take seconds on a busy machine, and that is not the targets' time. Resolves
 * when every thread is ready or `signal` aborts; an import that fails is left for the checks to report.
 */
export async function warmThreadPool(modulePath: string, file: string, signal: AbortSignal): Promise<void> {
  const pool = getThreadPool();
  const warm: WarmTask = {
    warm: true,
    modulePath,
    file,
    arrived: new Int32Array(new SharedArrayBuffer(4)),
    count: THREAD_POOL_SIZE,
  };
  const ready = Promise.allSettled(Array.from({ length: THREAD_POOL_SIZE }, () => pool.run(warm)));
  const aborted = abortPromise(signal);
  try {
    await Promise.race([ready, aborted.promise.catch(() => undefined)]);
  } finally {
    aborted.release();
  }
}

/**
 * Runs one check task in the pool. Resolves with the check's observation; rejects with `ctx.signal.reason`
 * as soon as `ctx.signal` aborts (deadline: `DeadlineError`, cancel: `CancelledError`); the check's own
 * `ctx.signal` in the thread aborts too, and the worker thread of a check still running
 * `THREAD_KILL_GRACE_MS` later is terminated. An error thrown by the check
 * is rebuilt with its name, message, code and the worker's stack.
 */
export function runInThread(
  modulePath: string,
  file: string,
  target: Target,
  args: unknown,
  ctx: CheckContext,
): Promise<Observation> {
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);
  try {
    structuredClone({ target, args });
  } catch (err) {
    return Promise.reject(
      new ThreadCheckError(`${file}: target or arguments cannot cross threads`, { cause: err }),
    );
  }
  const { port1, port2 } = new MessageChannel();
  const task: ThreadTask = {
    modulePath,
    file,
    target,
    args,
    deadline: ctx.deadline,
    timeoutMs: ctx.timeoutMs,
    logLevel: ctx.log.level,
    abortPort: port2,
  };
  return new Promise<Observation>((resolve, reject) => {
    const kill = new AbortController();
    let graceTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      reject(ctx.signal.reason);
      // Ask the check to stop (its own timer covers the deadline; this covers a cancel), then make sure.
      port1.postMessage(serializeError(ctx.signal.reason));
      // Unref'd: a running worker keeps the process alive anyway, so the timer still fires when it must.
      graceTimer = setTimeout(() => kill.abort(ctx.signal.reason), THREAD_KILL_GRACE_MS).unref();
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (graceTimer) clearTimeout(graceTimer);
      port1.close();
    };
    getThreadPool()
      .run(task, { signal: kill.signal, transferList: [port2] })
      .then(
        (reply: ThreadReply) => {
          settle();
          // After an abort the caller already has its answer; a late reply is dropped.
          if (ctx.signal.aborted) return;
          if (reply.ok) resolve(reply.observation);
          // The worker's own deadline can fire a hair before ours: FP_DEADLINE maps to the run's deadline.
          else reject(deserializeError(reply.error, ctx.timeoutMs));
        },
        (err: unknown) => {
          settle();
          if (ctx.signal.aborted) return;
          reject(
            new ThreadCheckError(`${file}: worker thread failed: ${(err as Error)?.message ?? err}`, {
              cause: err,
            }),
          );
        },
      );
  });
}
