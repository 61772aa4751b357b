import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { validateCheckArgs } from '../checks/validate-args.js';
import { CancelledError, InterruptedError, UsageError } from '../core/errors.js';
import { type StartedThread, usesMainLane } from '../distributed/thread-start.js';
import { type BatchSink, type Executor, LocalExecutor } from '../engine/executor.js';
import { OutcomeSummary } from '../engine/outcome-summary.js';
import { emptyCounts, type Result } from '../engine/result.js';
import type { RunOptions } from '../engine/run-options.js';
import type { RunProgress } from '../engine/types.js';
import { newRunRecord, StoredRun } from '../runs/stored-run.js';
import { WRITTEN } from '../sinks/output.js';
import { openTargets } from '../targets/open-targets.js';
import type { ResolveFn } from '../targets/system-resolver.js';
import { EXIT } from './exit-codes.js';
import { tuneHeapForRun } from './heap-tuning.js';
import {
  type OutputFormat,
  parseCheckArgs,
  parseDurationMs,
  parseIntOption,
  parseOutputFormat,
  parsePositiveNumber,
} from './parse-options.js';
import { runInProcessBelow, runLogLevel } from './run-early.js';
import type { RunFlags } from './run-flags.js';
import type { RunSearchIndex } from './run-search-index.js';
import type { RunStore } from './run-store.js';
import { RunTerminal, rowsNeed } from './run-terminal.js';
import { buildRegistry, closeSharedResources, leaseTtlMs, runResolver } from './runtime.js';
import { parseThreads } from './threads-option.js';

/** The run command's action: validates everything, runs, prints; returns the exit status. */
export async function runAction(
  checkName: string,
  specs: string[],
  flags: RunFlags,
  started: readonly StartedThread[] = [],
): Promise<number> {
  tuneHeapForRun();
  // Everything is validated before anything runs: bad input exits 2 with nothing on stdout.
  const concurrency = parseIntOption(flags.concurrency, '--concurrency', 1, 1_000_000);
  const retries = parseIntOption(flags.retries, '--retries', 0, 100);
  const timeoutMs = flags.timeout !== undefined ? parseDurationMs(flags.timeout, '--timeout') : undefined;
  const ratePerSec = flags.rate !== undefined ? parsePositiveNumber(flags.rate, '--rate') : undefined;
  const threads = parseThreads(flags.threads);
  const format: OutputFormat = flags.output
    ? parseOutputFormat(flags.output)
    : process.stdout.isTTY
      ? 'table'
      : 'jsonl';
  const registry = await buildRegistry(flags.checkModule, checkName);
  const check = registry.get(checkName);
  const rawArgs = parseCheckArgs(flags.arg, flags.argsJson);
  const args = validateCheckArgs(check, rawArgs);
  const resolve = await runResolver(flags.resolver);
  const searchConfig = await searchIndexFlags(flags);
  const source = await openTargets({
    specs,
    files: flags.targetsFile,
    resolveDomains: flags.resolve,
    stdin: process.stdin,
    resolve,
  });
  let db: RunStore | undefined;
  let searchIndex: RunSearchIndex | undefined;
  let executor: RunExecutor | undefined;
  try {
    if (source.total === 0) throw new UsageError('no targets given');
    const log = pino({ level: runLogLevel() }, pino.destination(2));
    if (flags.db) db = await openDb(flags.db, log);
    const runId = randomUUID();
    const options: RunOptions = { concurrency, retries, timeoutMs, ratePerSec };
    executor = await makeExecutor(
      threads,
      runInProcessBelow(flags),
      source.total,
      log,
      resolve,
      flags.resolver,
      started,
    );
    const spec = { check, args, targets: source.targets(), total: source.total, ...options };
    const controller = new AbortController();
    const summary = new OutcomeSummary();
    const blockLoopOnce = testBlockLoopOnce();
    let results: AsyncIterable<Result>;
    if (db) {
      const record = newRunRecord({
        id: runId,
        check: checkName,
        args: rawArgs,
        targets: { specs, files: flags.targetsFile, resolve: flags.resolve },
        options,
        total: source.total ?? null,
      });
      await db.store.createRun(record);
      const run = new StoredRun({
        store: db.store,
        executor,
        record,
        spec,
        signal: controller.signal,
        owner: db.lease.id,
        log,
      });
      results = run.results();
    } else {
      // Neither stored nor indexed: `-o jsonl|summary|groups` need only the results' lines and outcomes, and
      // an executor whose results come as text (worker threads) hands those over in batches, unparsed.
      const need = rowsNeed(format);
      const sink: BatchSink | undefined =
        searchConfig || need === 'objects'
          ? undefined
          : {
              lines: need === 'lines',
              take: (batch) => {
                summary.addBatch(batch.outcomes);
                const written = terminal.lines(batch.lines);
                blockLoopOnce();
                return written;
              },
            };
      results = executor.execute({ id: runId }, spec, controller.signal, sink);
    }
    if (searchConfig) {
      const { RunSearchIndex } = await import('./run-search-index.js');
      searchIndex = new RunSearchIndex(searchConfig, log);
      results = searchIndex.through(results);
    }
    let interrupted = false;
    let outputClosed = false;
    const idle = {
      id: runId,
      check: checkName,
      startedAt: Date.now(),
      total: source.total,
      done: 0,
      inFlight: 0,
    };
    const terminal = new RunTerminal({
      format,
      stdout: process.stdout,
      stderr: process.stderr,
      progress: flags.progress
        ? () => executor?.progress(runId) ?? { ...idle, counts: emptyCounts() }
        : undefined,
      // `| head` went away: nobody reads the rest, so stop the run now, quietly (stored as cancelled).
      onClosed: () => {
        outputClosed = true;
        controller.abort(new CancelledError('output closed'));
      },
    });
    const onSignal = (sig: NodeJS.Signals) => {
      if (interrupted) {
        terminal.abandon();
        process.exit(EXIT.interrupted); // a second ^C: stop now
      }
      interrupted = true;
      // The stored run ends `interrupted`; the targets not checked yet are stored as `cancelled` results.
      controller.abort(new InterruptedError(`interrupted by ${sig}`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let indexIncomplete = false;
    const t0 = performance.now();
    try {
      await terminal.header();
      await printResults(results, summary, terminal, blockLoopOnce);
      await terminal.finish(summary, performance.now() - t0, interrupted, executor.progress(runId)?.overload);
      if (searchIndex && !(await searchIndex.finish(process.stderr))) indexIncomplete = true;
    } finally {
      terminal.stopProgress();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (outputClosed) return EXIT.outputClosed;
    if (interrupted) return EXIT.interrupted;
    return summary.counts.pass === summary.total && !indexIncomplete ? EXIT.ok : EXIT.notAllPassed;
  } finally {
    await searchIndex?.close();
    await executor?.close?.();
    await source.close();
    await db?.close();
    await closeSharedResources();
  }
}

/**
 * Summarises and prints each result as it comes. Its own function, not a loop inside `runAction`: the loop is
 * what V8 finds hot, and optimising it alone costs a few ms where optimising all of `runAction` cost ~60 (twice
 * ~30 ms, with a deoptimisation at the first code after the loop), measured with `--trace-opt`.
 */
async function printResults(
  results: AsyncIterable<Result>,
  summary: OutcomeSummary,
  terminal: RunTerminal,
  afterEach: () => void,
): Promise<void> {
  for await (const result of results) {
    summary.add(result);
    const written = terminal.row(result);
    // Awaited only when the output is full: an `await` of a settled promise still costs a turn per result.
    if (written !== WRITTEN) await written;
    afterEach();
  }
}

/** An executor whose progress carries the run's counters (the progress line, the summary's overload line). */
type RunExecutor = Omit<Executor, 'progress'> & { progress(runId: string): RunProgress | undefined };

/**
 * `--threads 1`, or a run of fewer than `inProcessBelow` targets: the engine in this thread (`LocalExecutor`);
 * else the run sharded over worker threads (`ThreadExecutor`, loaded only then), which keeps user checks (and
 * runs under `inProcessBelow` whose size was not known here) in this thread.
 */
async function makeExecutor(
  threads: number,
  inProcessBelow: number,
  total: number | undefined,
  log: Logger,
  resolve: ResolveFn,
  resolver: string | undefined,
  started: readonly StartedThread[],
): Promise<RunExecutor> {
  // Test-only: e2e tests shard runs smaller than the threshold.
  const below = process.env.FLEETPROBE_TEST_THREADS_BELOW
    ? Number(process.env.FLEETPROBE_TEST_THREADS_BELOW)
    : inProcessBelow;
  // A run the ThreadExecutor would keep here anyway (no thread started early to stop): not loaded at all.
  if (threads === 1 || (started.length === 0 && total !== undefined && total < below))
    return new LocalExecutor({ log, resolve });
  const { ThreadExecutor } = await import('../distributed/thread-executor.js');
  return new ThreadExecutor({
    threads,
    mainLane: usesMainLane(threads),
    log,
    ...(resolver !== undefined ? { resolver } : {}),
    resolve,
    started,
    inProcessBelow: below,
  });
}

/**
 * Test-only: `FLEETPROBE_TEST_BLOCK_LOOP_MS=<ms>` blocks the event loop synchronously once, after the first
 * result, while the other checks are in flight (how e2e tests show a stalled client reports no false timeouts).
 * Returns what to call after each result or batch of results.
 */
function testBlockLoopOnce(): () => void {
  const ms = Number(process.env.FLEETPROBE_TEST_BLOCK_LOOP_MS ?? 0);
  let pending = Number.isFinite(ms) && ms > 0;
  return () => {
    if (!pending) return;
    pending = false;
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // a stalled client: nothing else runs
    }
  };
}

/** `--search-index`, validated before anything runs; the client is loaded only when it is given. */
async function searchIndexFlags(flags: RunFlags) {
  if (flags.searchIndex === undefined) {
    if (flags.searchIndexName !== undefined) throw new UsageError('--search-index-name needs --search-index');
    return undefined;
  }
  const { searchIndexConfig } = await import('../sinks/search/open.js');
  return searchIndexConfig(flags.searchIndex, flags.searchIndexName, process.env.FLEETPROBE_SEARCH_AUTH);
}

/** `--db`: loaded on demand so runs without a store never load the database drivers. */
async function openDb(url: string, log: Logger): Promise<RunStore> {
  const { openRunStore } = await import('./run-store.js');
  return openRunStore(url, { leaseTtlMs: leaseTtlMs(), log });
}

/**
 * After a run everything should be closed and the process should exit by itself. If a handle is still
 * open a few seconds later, that is a leak: name it on stderr and exit anyway rather than hang.
 */
export function armExitWatchdog(graceMs = 3000): void {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
    process.stderr.write(`fleetprobe: warning: handles still open after the run: ${open.join(', ')}\n`);
    process.exit();
  }, graceMs).unref();
}
