import { statSync } from 'node:fs';
import {
  DEFAULT_IN_PROCESS_BELOW,
  type StartedThread,
  startThread,
  threadData,
  threadLogLevel,
} from '../distributed/thread-start.js';
import { parseTargetSpec, specCount } from '../targets/spec.js';
import type { RunFlags } from './run-flags.js';
import { parseThreads } from './threads-option.js';

/** The shortest line of a targets file that holds a target (`1.2.3.4\n`). */
const MIN_LINE_BYTES = 8;

/** The level of `fleetprobe run`'s log (stderr): `FLEETPROBE_LOG`, default `warn`. */
export function runLogLevel(): string {
  return process.env.FLEETPROBE_LOG ?? 'warn';
}

/**
 * The worker threads of a run that will likely be sharded over them, started before the rest of the command
 * is loaded and the targets are validated (loading a thread's modules takes ~0.2 s of CPU, which then
 * overlaps): `--threads` above 1, no user check module, and at least `DEFAULT_IN_PROCESS_BELOW` targets in
 * the specs, or targets files large enough to hold that many. A wrong guess costs only CPU: the executor
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
  if (estimateTargets(specs, flags.targetsFile) < DEFAULT_IN_PROCESS_BELOW) return [];
  const data = threadData(threadLogLevel(runLogLevel()), flags.resolver);
  return Array.from({ length: threads }, () => startThread(data));
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
