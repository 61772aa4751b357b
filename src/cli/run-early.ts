import { statSync } from 'node:fs';
import {
  DEFAULT_IN_PROCESS_BELOW,
  type StartedThread,
  startThread,
  threadData,
  threadLogLevel,
  usesMainLane,
} from '../distributed/thread-start.js';
import { parseTargetSpec, specCount } from '../targets/spec.js';
import type { RunFlags } from './run-flags.js';
import { parseThreads } from './threads-option.js';

/**
 * Without `--threads`, runs of fewer targets than this stay in the main thread. Each worker thread is its own
 * V8 isolate holding its own copy of the modules and heap (~25 MB idle, ~40 MB at -c 500), so a 20,000-host
 * http sweep peaked at 124-132 MB RSS on 2 lanes (main's and one thread; 140-142 MB since threads have 16 MB
 * semi-spaces) against 87-99 MB in the main thread,
 * which also spent less CPU per result (140-237 against 209-268 us) for the same wall time (2026-12-01): a run
 * this short does not amortise the thread's start-up. From 50,000 targets the lanes save wall time (100,000
 * hosts 9.37 against 9.66 s; tcp over a /14 10.7 against 18.2 s). `--threads <n>` asks for threads: then only
 * runs under `DEFAULT_IN_PROCESS_BELOW` stay here.
 */
export const DEFAULT_THREADS_FROM = 50_000;

/** The shortest line of a targets file that holds a target (`1.2.3.4\n`). */
const MIN_LINE_BYTES = 8;

/** The level of `fleetprobe run`'s log (stderr): `FLEETPROBE_LOG`, default `warn`. */
export function runLogLevel(): string {
  return process.env.FLEETPROBE_LOG ?? 'warn';
}

/** Runs of fewer targets than this stay in the main thread: `DEFAULT_THREADS_FROM`, or less with `--threads`. */
export function runInProcessBelow(flags: RunFlags): number {
  return flags.threads === undefined ? DEFAULT_THREADS_FROM : DEFAULT_IN_PROCESS_BELOW;
}

/**
 * The worker threads of a run that will likely be sharded over them, started before the rest of the command
 * is loaded and the targets are validated (loading a thread's modules takes ~0.2 s of CPU, which then
 * overlaps): `--threads` above 1, no user check module, and at least `runInProcessBelow` targets in the
 * specs, or targets files large enough to hold that many. A wrong guess costs only CPU: the executor
 * terminates the threads it does not use. Invalid flags start nothing (the validation reports them).
 */
export function startThreadsEarly(specs: readonly string[], flags: RunFlags): StartedThread[] {
  let threads: number;
  try {
    threads = parseThreads(flags.threads);
  } catch {
    return [];
  }
  if (threads < 2 || flags.checkModule !== undefined) return [];
  if (estimateTargets(specs, flags.targetsFile) < runInProcessBelow(flags)) return [];
  const data = threadData(threadLogLevel(runLogLevel()), flags.resolver);
  const workers = usesMainLane(threads) ? threads - 1 : threads;
  return Array.from({ length: workers }, () => startThread(data));
}

/** At most how many targets the specs and files hold (files by their size; stdin counts none). */
function estimateTargets(specs: readonly string[], files: readonly string[]): number {
  let n = 0;
  for (const spec of specs) {
    try {
      n += Number(specCount(parseTargetSpec(spec, 'argument')));
    } catch {
      // a bad spec: the validation reports it
    }
  }
  for (const file of files) {
    if (file === '-') continue;
    try {
      n += statSync(file).size / MIN_LINE_BYTES;
    } catch {
      // unreadable: the validation reports it
    }
  }
  return n;
}
