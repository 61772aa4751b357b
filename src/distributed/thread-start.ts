import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { threadModule } from '../core/thread-module.js';
import type { ThreadData } from './thread-protocol.js';

/**
 * Each thread's young generation: two semi-spaces of 16 MB, from its start. Left to grow, a thread's semi-spaces
 * stopped wherever they were when the main thread capped its own (`--semi-space-growth-factor=1` in
 * heap-tuning.ts is process-wide): 4 MB if threads started early, 16 MB if late. At 8 MB a thread promoted what
 * lives through two scavenges (checks in flight) so fast that it ran a full GC every ~110 ms: 46 in a tcp /14 run
 * on 2 lanes, against 28 for one process doing the same half alone. Alternated rounds, 2026-12-01 (Intel Xeon, 2
 * cores, Node 20): tcp /14 `--threads 2` 6.07-6.13 s and 11.5-11.7 s of CPU at 8 MB, 5.42-5.49 s and 10.3-10.5 s
 * at 16, 5.46 s and 10.4 s at 32; http 100,000 hosts 4.71 against 4.47 s; http 20,000 hosts 1.43 against 1.39 s.
 * Peak RSS is ~15 MB higher per thread at 16 (tcp 130 -> 145 MB, http 20,000 hosts 124 -> 140), ~45 at 32.
 */
const THREAD_SEMI_SPACE_MB = 16;

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
  // Read when the thread's heap is set up: it starts at its cap (and later threads, user checks' too, alike).
  setFlagsFromString(`--min-semi-space-size=${THREAD_SEMI_SPACE_MB}`);
  const worker = new Worker(entry.url, {
    argv: entry.argv,
    workerData: data,
    // V8's young generation is 3 semi-spaces (two, and as much for large objects).
    resourceLimits: { maxYoungGenerationSizeMb: 3 * THREAD_SEMI_SPACE_MB },
  });
  worker.unref();
  return new StartedThread(worker, data);
}

/**
 * Runs of fewer targets than this (when the total is known) stay in the main thread by default: starting a
 * thread costs more than such a run gains.
 */
export const DEFAULT_IN_PROCESS_BELOW = 2000;

/**
 * Up to this many `--threads`, a run's lanes are main's own (`MainLane`) plus worker threads, one fewer. Each
 * worker thread is an isolate that loads the modules and warms up the hot code again (~0.3 s of CPU at start,
 * and its own heap); main's lane needs neither. Measured on 2 cores (http, nginx on loopback, 3-5 alternated
 * rounds, 2026-12-01): 20,000 hosts 3.13 s against 3.39 s with two worker threads, 128 against 152 MB; 100,000
 * hosts 9.37 against 10.09 s, 135 against 165 MB; tcp over a /14 1.70x one thread against 1.52x. Main also merges
 * every lane's results (4-15 us of CPU per result, tcp and http, against 70-95 us per check in a lane), so with
 * more lanes main's own would fall behind the others and hold its shards into the run's tail. Where that starts
 * is an estimate (not measured above 2 cores): from 5 threads on, every lane is a worker thread.
 */
export const MAIN_LANE_UP_TO = 4;

/** Whether a run on `threads` lanes has one in the main thread (`MAIN_LANE_UP_TO`). */
export function usesMainLane(threads: number): boolean {
  return threads <= MAIN_LANE_UP_TO;
}

/** The log level of the threads for a main log at `level`: the same, `warn` when there is none or it is silent. */
export function threadLogLevel(level: string | undefined): string {
  return level && level !== 'silent' ? level : 'warn';
}

/** What a thread is started with: its log level, and `--resolver` when given. */
export function threadData(logLevel: string, resolver: string | undefined): ThreadData {
  return { logLevel, ...(resolver !== undefined ? { resolver } : {}) };
}

/** Whether a thread started with `data` serves an executor whose threads get `wanted`. */
export function sameThreadData(data: ThreadData, wanted: ThreadData): boolean {
  return data.logLevel === wanted.logLevel && data.resolver === wanted.resolver;
}
