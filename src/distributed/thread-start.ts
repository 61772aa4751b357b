import { Worker } from 'node:worker_threads';
import { threadModule } from '../core/thread-module.js';
import type { ThreadData } from './thread-protocol.js';

/** A worker thread of the thread executor, started with `data` before an executor adopts it. */
export class StartedThread {
  #exited = false;

  constructor(
    readonly worker: Worker,
    readonly data: ThreadData,
  ) {
    // Until an executor adopts it nobody else listens: a thread that fails to start only becomes unusable
    // (the executor starts another, which reports the failure if it is not a one-off).
    worker.on('error', () => {});
    worker.once('exit', () => {
      this.#exited = true;
    });
  }

  /** False once the thread has exited (or failed). */
  get usable(): boolean {
    return !this.#exited;
  }
}

/**
 * Starts one worker thread of the thread executor (`thread-worker.js`), unref'd. Loading its modules costs
 * ~0.2 s of CPU, so the CLI starts the threads of a large run before it validates the targets and hands them
 * to `ThreadExecutor` (`started`), which adopts them or terminates them. This module loads nothing else.
 */
export function startThread(data: ThreadData): StartedThread {
  const entry = threadModule(import.meta.url, './thread-worker.js');
  const worker = new Worker(entry.url, {
    argv: entry.argv,
    workerData: data,
    // No smaller young generation: 8 MB saved ~50 MB RSS per thread but cost 20-30% more CPU per result.
  });
  worker.unref();
  return new StartedThread(worker, data);
}

/**
 * Runs of fewer targets than this (when the total is known) stay in the main thread by default: starting a
 * thread costs more than such a run gains.
 */
export const DEFAULT_IN_PROCESS_BELOW = 2000;

/** The log level of the threads for a main log at `level`: the same, `warn` when there is none or it is silent. */
export function threadLogLevel(level: string | undefined): string {
  return level && level !== 'silent' ? level : 'warn';
}

/** Whether a thread started with `data` serves an executor whose threads get `wanted`. */
export function sameThreadData(data: ThreadData, wanted: ThreadData): boolean {
  return data.logLevel === wanted.logLevel && data.resolver === wanted.resolver;
}
