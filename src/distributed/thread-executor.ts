import type { Logger } from 'pino';
import { loadBuiltinCheck } from '../checks/builtin-loaders.js';
import type { Check } from '../checks/check.js';
import { FleetprobeError } from '../core/errors.js';
import { loopMonitor } from '../core/loop-monitor.js';
import { silentLog } from '../core/silent-log.js';
import { Wakeup } from '../core/wakeup.js';
import {
  type BatchSink,
  EndedRuns,
  type ExecuteSpec,
  type Executor,
  LocalExecutor,
} from '../engine/executor.js';
import { batchSize, type LinesBatch } from '../engine/outcome-batch.js';
import { overloadTotals } from '../engine/overload.js';
import { addCounts, emptyCounts, type Result } from '../engine/result.js';
import type { RunProgress } from '../engine/types.js';
import { decodeResultLines, type ResultLines } from '../sinks/result-line.js';
import { type ResolveFn, systemResolve } from '../targets/system-resolver.js';
import { type Lane, MainLane } from './main-lane.js';
import { argsToWire, decodeTargets, syntheticResult } from './messages.js';
import { GrantClock } from './rate.js';
import { type CutShard, ShardCutter } from './shard-cutter.js';
import type { ShardHead } from './shard-runner.js';
import { chooseShardSize } from './shard-size.js';
import type { FromThread, ThreadData, ToThread } from './thread-protocol.js';
import {
  DEFAULT_IN_PROCESS_BELOW,
  type StartedThread,
  sameThreadData,
  startThread,
  threadData,
  threadLogLevel,
} from './thread-start.js';

/** A worker thread of the executor failed (crashed, exited): its runs fail rather than lose results. */
export class ThreadExecutorError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_THREAD_EXECUTOR', message, options);
  }
}

export interface ThreadExecutorOptions {
  /** Most lanes (>= 1): worker threads, and main's own lane with `mainLane`; they start on demand. */
  readonly threads: number;
  /**
   * One of the `threads` lanes runs in the main thread (`MainLane`): on few cores, one isolate fewer to load
   * and warm up (`usesMainLane`). Default false: every lane a worker thread, main only merging.
   */
  readonly mainLane?: boolean;
  readonly log?: Logger;
  /** `--resolver` (ip[:port]): each thread resolves targets given by name with it (`makeResolver`). */
  readonly resolver?: string;
  /**
   * Resolves targets given by name for runs kept in this process (the CLI hands its own, built from `resolver`).
   * Default: the system resolver.
   */
  readonly resolve?: ResolveFn;
  /** Targets per shard. Default: total / (8 x threads), 64..1000 and at least a thread's in-flight limit. */
  readonly shardSize?: number;
  /**
   * Runs with fewer targets than this (when the total is known) stay in this process: starting a thread
   * (loading the checks) costs 0.3-1 s, more than such a run gains. Default `DEFAULT_IN_PROCESS_BELOW` (2000).
   */
  readonly inProcessBelow?: number;
  /** pino level of the threads' logs (stderr). Default: `log`'s level, else `warn`. */
  readonly logLevel?: string;
  /**
   * Threads started before the executor (`startThread`, while the CLI validates the targets): used as its
   * first threads when started with the same `ThreadData`, else terminated. Terminated too when the next
   * run stays in this process.
   */
  readonly started?: readonly StartedThread[];
}

const MAX_SHARD_BYTES = 256 * 1024;

/** One lane (a worker thread, or main's own) and the runs it has a part in. */
class Slot {
  readonly lane: Lane;
  /** Main's own lane: it watches main's loop and counts into the process totals itself. */
  readonly inMain: boolean;
  readonly runs = new Set<RunState>();
  dead: ThreadExecutorError | undefined;
  readonly #onDead: (slot: Slot) => void;

  constructor(lane: Lane, onDead: (slot: Slot) => void) {
    this.#onDead = onDead;
    this.lane = lane;
    this.inMain = lane instanceof MainLane;
    const what = this.inMain ? "main's lane" : 'worker thread';
    lane.on('message', (m: FromThread) => {
      for (const run of this.runs) if (run.id === m.runId) run.onMessage(this, m);
    });
    lane.on('error', (err) =>
      this.fail(new ThreadExecutorError(`${what} failed: ${err.message}`, { cause: err })),
    );
    lane.on('exit', (code) => this.fail(new ThreadExecutorError(`${what} exited (code ${code})`)));
  }

  /** The lane is gone (or going): its runs fail. */
  fail(err: ThreadExecutorError): void {
    if (this.dead) return;
    this.dead = err;
    this.#onDead(this);
    for (const run of this.runs) run.fail(err);
  }

  post(m: ToThread): void {
    if (!this.dead) this.lane.postMessage(m, m.t === 'ack' && m.lines ? [m.lines] : undefined);
  }

  attach(run: RunState): void {
    if (this.runs.size === 0) this.lane.ref();
    this.runs.add(run);
  }

  detach(run: RunState): void {
    this.runs.delete(run);
    // An idle lane never keeps the process alive.
    if (this.runs.size === 0) this.lane.unref();
  }
}

/** A run's part on one thread. */
interface Part {
  /** Targets sent without a result yet. */
  outstanding: number;
  final: boolean;
  progress: RunProgress | undefined;
}

/** A run in progress, as main sees it: result batches waiting for the consumer, each thread's part. */
class RunState {
  readonly queue: { slot: Slot; results: ResultLines | LinesBatch; final: boolean }[] = [];
  readonly parts = new Map<Slot, Part>();
  readonly counts = emptyCounts();
  readonly startedAt = Date.now();
  done = 0;
  feederDone = false;
  dropped = false;
  error: unknown;
  unsent: CutShard | undefined;
  mainStalls = 0;
  mainLongestStallMs = 0;
  readonly #wakeup = new Wakeup();

  constructor(
    readonly id: string,
    readonly check: string,
    readonly total: number | undefined,
    readonly concurrency: number,
    readonly clock: GrantClock | undefined,
  ) {}

  notify(): void {
    this.#wakeup.notify();
  }
  wait(): Promise<void> {
    return this.#wakeup.wait();
  }
  fail(err: unknown): void {
    this.error ??= err;
    this.notify();
  }
  get threadsDone(): boolean {
    for (const part of this.parts.values()) if (!part.final) return false;
    return true;
  }

  onMessage(slot: Slot, m: FromThread): void {
    const part = this.parts.get(slot);
    if (!part || this.dropped) return;
    switch (m.t) {
      case 'results': {
        const n = 'outcomes' in m.results ? batchSize(m.results.outcomes) : m.results.ends.length;
        part.outstanding -= n;
        if (m.progress) this.#progress(slot, part, m.progress);
        if (m.final) part.final = true;
        // Every non-final batch, even an empty one, holds a credit that only the consumer's ack returns.
        this.queue.push({ slot, results: m.results, final: m.final });
        this.notify();
        break;
      }
      case 'progress':
        if (!part.final) this.#progress(slot, part, m.progress);
        break;
      case 'grant?':
        if (this.clock) slot.post({ t: 'grant', runId: this.id, id: m.id, grant: this.clock.reserve() });
        break;
    }
  }

  /**
   * Keeps a part's latest progress and adds what its overload counters grew by to the process totals (a worker
   * thread's: main's lane counts into them itself, in this thread).
   */
  #progress(slot: Slot, part: Part, p: RunProgress): void {
    const before = part.progress?.overload;
    const now = p.overload;
    if (now && !slot.inMain) {
      overloadTotals.rechecks += now.rechecks - (before?.rechecks ?? 0);
      overloadTotals.overloadErrors += now.overloadErrors - (before?.overloadErrors ?? 0);
      overloadTotals.answersReadAfterStall +=
        now.answersReadAfterStall - (before?.answersReadAfterStall ?? 0);
    }
    part.progress = p;
  }

  /**
   * The run's progress: done and counts as yielded here; in flight and overload summed over the threads'
   * engines, plus this thread's own stalls. The in-flight limit is the run's ceiling scaled by how far the
   * threads' adaptive limits are lowered (together now; the lowest any one went).
   */
  progress(): RunProgress {
    let inFlight = 0;
    let rechecks = 0;
    let overloadErrors = 0;
    let answersReadAfterStall = 0;
    let stalls = this.mainStalls;
    let longestStallMs = this.mainLongestStallMs;
    let limitSum = 0;
    let ceilingSum = 0;
    let lowestRatio = 1;
    for (const [slot, part] of this.parts) {
      const p = part.progress;
      if (!p) continue;
      if (!part.final) inFlight += p.inFlight;
      const o = p.overload;
      if (!o) continue;
      rechecks += o.rechecks;
      overloadErrors += o.overloadErrors;
      answersReadAfterStall += o.answersReadAfterStall;
      // Main's lane watches main's loop, whose stalls are counted here already.
      if (!slot.inMain) {
        stalls += o.stalls;
        longestStallMs = Math.max(longestStallMs, o.longestStallMs);
      }
      if (!part.final) {
        limitSum += o.concurrencyLimit;
        ceilingSum += o.concurrencyCeiling;
      }
      lowestRatio = Math.min(lowestRatio, o.lowestConcurrency / o.concurrencyCeiling);
    }
    const c = this.concurrency;
    return {
      id: this.id,
      check: this.check,
      startedAt: this.startedAt,
      total: this.total,
      done: this.done,
      inFlight,
      counts: { ...this.counts },
      overload: {
        rechecks,
        overloadErrors,
        answersReadAfterStall,
        stalls,
        longestStallMs: Math.round(longestStallMs),
        concurrencyLimit: ceilingSum > 0 ? Math.round((c * limitSum) / ceilingSum) : c,
        concurrencyCeiling: c,
        lowestConcurrency: Math.round(c * lowestRatio),
      },
    };
  }
}

/** An ack that gives a batch's line buffer back to its thread (the sink copied the lines). */
function ackGiving(runId: string, lines: Uint8Array): ToThread {
  return lines.byteLength > 0 ? { t: 'ack', runId, lines: lines.buffer as ArrayBuffer } : { t: 'ack', runId };
}

/** The fewest targets per shard the thread executor chooses (unless `shardSize` is given). */
export const MIN_SHARD_SIZE = 64;

/**
 * The engine's `Executor` over lanes (`fleetprobe run|server --threads <n>`): worker threads and, with
 * `mainLane`, one in the main thread (`MainLane`), all serving the same protocol (`serveLane`). It is the one way
 * of sharding of the distributed mode with an in-process transport. Main cuts the targets into shards
 * (`ShardCutter`), gives each thread at most two shards' worth of targets without results, and yields the
 * result batches the threads send back, acking each as it is taken (bounded memory: a slow consumer stops
 * the threads). A thread runs one engine per run over all the shards it gets (`runShard`, as a NATS worker
 * does), with the run's concurrency split over the threads; a rate-limited run's one bucket stays here and
 * threads start checks on its grants. Threads start when there is a shard for them, and never keep the
 * process alive when idle. Given a `BatchSink` (a consumer of lines and outcomes only), batches go to it as
 * the threads send them, UTF-8 lines and outcomes, and are never parsed here.
 *
 * In this process instead (`LocalExecutor`): runs of checks that are not built-in (a user check module's
 * in-process guard and stall watchdog are per process; `isolate: 'thread'` checks already use their own
 * thread pool) and runs smaller than `inProcessBelow`.
 *
 * Cancel: threads yield `cancelled` for the rest of their shards; targets never sent get `cancelled` here.
 * Breaking out: threads drop the run at once. A thread that crashes fails its runs (`FP_THREAD_EXECUTOR`).
 */
export class ThreadExecutor implements Executor {
  readonly #threads: number;
  readonly #log: Logger;
  readonly #data: ThreadData;
  readonly #shardSize: number | undefined;
  readonly #inProcessBelow: number;
  readonly #mainLane: boolean;
  readonly #local: LocalExecutor;
  readonly #slots: Slot[] = [];
  /** Threads started early and not used yet (`started`). */
  readonly #spare: StartedThread[] = [];
  /** Terminations of threads never used, awaited by `close`. */
  readonly #stopping: Promise<number>[] = [];
  readonly #live = new Map<string, RunState>();
  readonly #ended = new EndedRuns();
  #closed = false;

  constructor(opts: ThreadExecutorOptions) {
    if (!(Number.isInteger(opts.threads) && opts.threads >= 1)) {
      throw new RangeError(`threads must be an integer >= 1, got ${opts.threads}`);
    }
    this.#threads = opts.threads;
    this.#mainLane = opts.mainLane ?? false;
    this.#log = opts.log ?? silentLog;
    this.#data = threadData(opts.logLevel ?? threadLogLevel(opts.log?.level), opts.resolver);
    const workers = this.#mainLane ? this.#threads - 1 : this.#threads;
    for (const t of opts.started ?? []) {
      if (this.#spare.length < workers && sameThreadData(t.data, this.#data)) this.#spare.push(t);
      else this.#stopping.push(t.worker.terminate());
    }
    this.#shardSize = opts.shardSize;
    this.#inProcessBelow = opts.inProcessBelow ?? DEFAULT_IN_PROCESS_BELOW;
    this.#local = new LocalExecutor({
      ...(opts.log ? { log: opts.log } : {}),
      resolve: opts.resolve ?? systemResolve,
    });
  }

  /** Lanes running now, main's own included (for tests and diagnostics). */
  get threadCount(): number {
    return this.#slots.length;
  }

  async #runsHere(check: Check<unknown>, total: number | undefined): Promise<boolean> {
    if (total !== undefined && total < this.#inProcessBelow) return true;
    // Only the run's own check is loaded to compare: the others stay unloaded in this thread.
    return (await loadBuiltinCheck(check.name)) !== check;
  }

  async *execute(
    run: { readonly id: string },
    spec: ExecuteSpec,
    signal: AbortSignal,
    sink?: BatchSink,
  ): AsyncGenerator<Result, void, undefined> {
    if (this.#closed) throw new ThreadExecutorError('thread executor is closed');
    if (await this.#runsHere(spec.check, spec.total)) {
      this.#terminateSpare(); // started for a run that turned out to stay here: stop them loading
      yield* this.#local.execute(run, spec, signal);
      return;
    }
    const runId = run.id;
    const guess = this.#shardSize ?? chooseShardSize(spec.total, this.#threads, MIN_SHARD_SIZE);
    const threads =
      spec.total === undefined
        ? this.#threads
        : Math.max(1, Math.min(this.#threads, Math.ceil(spec.total / guess)));
    const perThread = Math.ceil(spec.concurrency / threads);
    const shardSize = this.#shardSize ?? Math.max(guess, perThread);
    const head: ShardHead = {
      runId,
      check: spec.check.name,
      args: argsToWire(spec.args),
      options: {
        retries: spec.retries,
        concurrency: perThread,
        ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
        ...(spec.ratePerSec !== undefined ? { ratePerSec: spec.ratePerSec } : {}),
      },
    };
    const state = new RunState(
      runId,
      spec.check.name,
      spec.total,
      spec.concurrency,
      spec.ratePerSec !== undefined ? new GrantClock(spec.ratePerSec) : undefined,
    );
    this.#live.set(runId, state);
    const cutter = new ShardCutter(spec.targets, shardSize, MAX_SHARD_BYTES);
    const onAbort = () => {
      for (const slot of state.parts.keys()) slot.post({ t: 'cancel', runId });
      state.notify();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const send = (slot: Slot, shard: CutShard) => {
      let part = state.parts.get(slot);
      if (!part) {
        part = { outstanding: 0, final: false, progress: undefined };
        state.parts.set(slot, part);
        slot.attach(state);
        slot.post({
          t: 'open',
          runId,
          head,
          form: sink ? (sink.lines ? 'lines' : 'outcomes') : 'objects',
        });
      }
      part.outstanding += shard.count;
      slot.post({ t: 'shard', runId, targets: shard.targets });
    };
    const feed = async () => {
      try {
        for (;;) {
          const slot = await this.#slotFor(state, threads, shardSize, signal);
          if (!slot) break;
          const shard = await cutter.next();
          if (!shard) break;
          if (signal.aborted || state.dropped || state.error !== undefined) {
            state.unsent = shard;
            break;
          }
          send(slot, shard);
        }
      } catch (err) {
        state.fail(err); // the target source failed
      } finally {
        for (const slot of state.parts.keys()) slot.post({ t: 'end', runId });
        state.feederDone = true;
        state.notify();
      }
    };

    const monitor = loopMonitor();
    const releaseMonitor = monitor.acquire();
    const unsubscribe = monitor.onStall((ms) => {
      state.mainStalls++;
      state.mainLongestStallMs = Math.max(state.mainLongestStallMs, ms);
    });
    const feeding = feed();
    let finished = false;
    try {
      for (;;) {
        if (state.error !== undefined) throw state.error;
        const batch = state.queue.shift();
        if (batch) {
          if ('outcomes' in batch.results) {
            const { lines, outcomes } = batch.results;
            addCounts(state.counts, outcomes.counts);
            state.done += batchSize(outcomes);
            await sink?.take(batch.results);
            if (!batch.final) batch.slot.post(ackGiving(runId, lines));
            continue;
          }
          if (!batch.final) batch.slot.post({ t: 'ack', runId });
          // Parsed when taken, not when received: batches waiting for a slow consumer stay one string each.
          for (const result of decodeResultLines(batch.results)) {
            state.counts[result.status]++;
            state.done++;
            yield result;
          }
          continue;
        }
        if (state.feederDone && state.threadsDone) break;
        await state.wait();
      }
      await feeding;
      if (state.error !== undefined) throw state.error;
      // After a cancel: the targets never sent to a thread.
      const cancelled = (t: Parameters<typeof syntheticResult>[2]) => {
        state.counts.cancelled++;
        state.done++;
        return syntheticResult(runId, spec.check.name, t, 'cancelled', 'cancelled', {
          args: spec.args,
          defaultPort: spec.check.defaultPort,
        });
      };
      let shard = state.unsent ?? (await cutter.next());
      state.unsent = undefined;
      while (shard) {
        for (const t of decodeTargets(shard.targets)) yield cancelled(t);
        shard = await cutter.next();
      }
      finished = true;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!finished) {
        state.dropped = true;
        for (const [slot, part] of state.parts) {
          slot.post({ t: 'drop', runId });
          part.final = true; // the thread aborts its checks and sends nothing more
        }
        state.notify();
      }
      await feeding;
      await cutter.close();
      for (const slot of state.parts.keys()) slot.detach(state);
      // Results queued while this thread was blocked drain without a timer tick: count that stall now.
      monitor.sample();
      unsubscribe();
      releaseMonitor();
      this.#live.delete(runId);
      this.#ended.add(runId, state.progress());
    }
  }

  /**
   * The thread the next shard of `state` goes to, waiting until one has room: one of its threads with nothing
   * left to do, else a thread it does not use yet (a new one only when there is a shard to give it), else its
   * least loaded thread with at most one shard's worth left. Undefined once the run is cancelled or dropped.
   */
  async #slotFor(
    state: RunState,
    threads: number,
    shardSize: number,
    signal: AbortSignal,
  ): Promise<Slot | undefined> {
    for (;;) {
      if (signal.aborted || state.dropped || state.error !== undefined || this.#closed) return undefined;
      let best: Slot | undefined;
      let bestOutstanding = Number.POSITIVE_INFINITY;
      for (const [slot, part] of state.parts) {
        if (slot.dead || part.final) continue;
        if (part.outstanding < bestOutstanding) {
          best = slot;
          bestOutstanding = part.outstanding;
        }
      }
      if (best && bestOutstanding === 0) return best;
      if (state.parts.size < threads) {
        const fresh = this.#freshSlot(state);
        if (fresh) return fresh;
      }
      if (best && bestOutstanding <= shardSize) return best;
      await state.wait();
    }
  }

  /** A thread `state` does not use: an idle one, else a new one while fewer than `threads` run, else the least busy. */
  #freshSlot(state: RunState): Slot | undefined {
    const unused = this.#slots.filter((s) => !s.dead && !state.parts.has(s));
    const idle = unused.find((s) => s.runs.size === 0);
    if (idle) return idle;
    if (this.#slots.length < this.#threads) {
      const lane =
        this.#mainLane && !this.#slots.some((s) => s.inMain)
          ? new MainLane(this.#data, this.#log)
          : (this.#takeSpare() ?? startThread(this.#data).worker);
      const slot = new Slot(lane, (dead) => {
        const i = this.#slots.indexOf(dead);
        if (i >= 0) this.#slots.splice(i, 1);
        if (!this.#closed) this.#log.error({ err: dead.dead }, 'lane lost');
      });
      this.#slots.push(slot);
      return slot;
    }
    unused.sort((a, b) => a.runs.size - b.runs.size);
    return unused[0];
  }

  progress(runId: string): RunProgress | undefined {
    return this.#live.get(runId)?.progress() ?? this.#ended.get(runId) ?? this.#local.progress(runId);
  }

  /** A thread started early that is still alive, if any. */
  #takeSpare(): Lane | undefined {
    for (let t = this.#spare.shift(); t; t = this.#spare.shift()) {
      if (t.usable) return t.worker;
      this.#stopping.push(t.worker.terminate());
    }
    return undefined;
  }

  #terminateSpare(): void {
    for (const t of this.#spare.splice(0)) this.#stopping.push(t.worker.terminate());
  }

  /** Terminates the threads (runs in progress on them fail). */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    for (const slot of slots) slot.fail(new ThreadExecutorError('thread executor closed'));
    this.#terminateSpare();
    await Promise.all([...slots.map((s) => s.lane.terminate()), ...this.#stopping]);
  }
}
