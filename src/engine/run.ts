import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Check, CheckContext, Observation } from '../checks/check.js';
import { AdaptiveConcurrency } from '../core/adaptive-concurrency.js';
import { Channel, type ChannelIterator } from '../core/channel.js';
import { type Deadline, DeadlineGroup } from '../core/deadline.js';
import { CancelledError, DeadlineError, describeError } from '../core/errors.js';
import { isoTime } from '../core/iso-time.js';
import { type LoopMonitor, loopMonitor } from '../core/loop-monitor.js';
import { RateLimiter } from '../core/rate-limiter.js';
import { silentLog } from '../core/silent-log.js';
import { systemResolve } from '../targets/system-resolver.js';
import type { Target } from '../targets/target.js';
import { type BatchedTargets, nameTarget, TARGET_BATCHES } from '../targets/target-batches.js';
import {
  blockedShareMs,
  ClientOverloadError,
  highLagMs,
  isClientOverload,
  type OverloadCounters,
  overloadTotals,
  stallLateMs,
} from './overload.js';
import { LateResultError, raceDeadline } from './race-deadline.js';
import { countStatus, emptyCounts, type Result, type Status, type StatusCounts } from './result.js';
import { resultFor } from './result-for.js';
import type { RunExecution, RunProgress, RunSpec } from './types.js';

export const DEFAULT_CONCURRENCY = 256;

/** An attempt whose deadline ran late enough that the loop, not the target, may be why it did not finish. */
class StalledAttempt {
  constructor(
    readonly observation: Observation,
    /**
     * `deadline`: its timer ran late; `blocked`: a timeout came after the loop was blocked for a large share
     * of the attempt; `late-result`: the check returned late before the timer ran (it may block the loop itself).
     */
    readonly kind: 'deadline' | 'blocked' | 'late-result',
    /** How late the deadline's timer ran (or the check returned), or how long the loop was blocked, ms. */
    readonly lateMs: number,
  ) {}
}

const CANCELLED = { message: 'cancelled' } as const;

/**
 * Starts a run: targets -> check -> results, one result per target, in completion order. At most the
 * concurrency limit of targets are in flight (the source is not read further meanwhile) and the result channel
 * is bounded, so a slow consumer slows the run down instead of piling results up.
 */
export function startRun(spec: RunSpec): RunExecution {
  return new EngineRun(spec);
}

/**
 * One run. The per-target path is written without async functions: a target costs one `TargetJob`, the
 * check's own promise and one reaction on it, instead of a chain of async frames (each a promise and its
 * reactions), since it runs once per target, hundreds of thousands of times a run.
 */
class EngineRun implements RunExecution {
  readonly id: string;
  readonly spec: RunSpec;
  readonly check: Check<unknown>;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly resolve: (name: string, signal: AbortSignal) => Promise<string[]>;
  readonly log: Logger;
  readonly rate: RateLimiter | undefined;
  readonly cancelController = new AbortController();
  readonly deadlines: DeadlineGroup;
  readonly counts: StatusCounts = emptyCounts();
  readonly startedAt = Date.now();
  readonly overload: OverloadCounters = { rechecks: 0, overloadErrors: 0, answersReadAfterStall: 0 };
  readonly lateMsLimit: number;
  readonly blockedMsLimit: number;
  readonly monitor: LoopMonitor = loopMonitor();
  readonly channel: Channel<Result>;
  /** Whether a check's signal may go to a later check (see `Check.releasesSignal`). */
  readonly recycleSignals: boolean;
  done = 0;
  inFlight = 0;
  /** The in-flight limit now (the adaptive controller moves it under `concurrency`). */
  limit: number;
  /** Set once cancelled (`cancel`: the run's signal, a failing source, a consumer that stopped). */
  cancelled = false;
  #started = false;
  #stalls = 0;
  #longestStallMs = 0;
  #adaptive: AdaptiveConcurrency | undefined;
  /** The producer waiting for a free slot, or for every job to end. */
  #roomWaiter: (() => void) | undefined;
  #idleWaiter: (() => void) | undefined;

  constructor(spec: RunSpec) {
    this.spec = spec;
    this.id = spec.id ?? randomUUID();
    this.check = spec.check;
    this.concurrency = Math.min(spec.concurrency ?? DEFAULT_CONCURRENCY, spec.check.maxInFlight ?? Infinity);
    this.limit = this.concurrency;
    this.timeoutMs = spec.timeoutMs ?? spec.check.timeoutMs;
    this.retries = spec.retries ?? 0;
    this.resolve = spec.resolve ?? systemResolve;
    this.log = spec.log ?? silentLog;
    this.rate = spec.ratePerSec ? new RateLimiter(spec.ratePerSec) : undefined;
    this.deadlines = new DeadlineGroup(this.cancelController.signal);
    this.lateMsLimit = stallLateMs(this.timeoutMs);
    this.blockedMsLimit = blockedShareMs(this.timeoutMs);
    this.channel = new Channel<Result>(this.concurrency);
    this.recycleSignals = spec.check.releasesSignal === true;
  }

  readonly #onParentAbort = () => this.cancel(this.spec.signal?.reason ?? new CancelledError());

  progress(): RunProgress {
    const adaptive = this.#adaptive;
    return {
      id: this.id,
      check: this.check.name,
      startedAt: this.startedAt,
      total: this.spec.total,
      done: this.done,
      inFlight: this.inFlight,
      counts: { ...this.counts },
      overload: {
        ...this.overload,
        stalls: this.#stalls,
        longestStallMs: Math.round(this.#longestStallMs),
        concurrencyLimit: adaptive?.limit ?? this.concurrency,
        concurrencyCeiling: this.concurrency,
        lowestConcurrency: adaptive?.lowest ?? this.concurrency,
      },
    };
  }

  cancel(reason?: unknown): void {
    this.cancelled = true;
    this.cancelController.abort(reason ?? new CancelledError());
  }

  makeResult(
    target: Target,
    status: Status,
    observed: { readonly message: string; readonly reason?: string | undefined },
    data: Record<string, unknown>,
    t0: number,
    attempts: number,
  ): Result {
    return resultFor(this.id, this.check, this.spec.args, target, {
      status,
      message: observed.message,
      reason: observed.reason,
      data,
      durationMs: Math.round((performance.now() - t0) * 100) / 100,
      startedAt: isoTime(performance.timeOrigin + t0),
      attempts,
    });
  }

  /** A result for a target that never ran. */
  cancelledResult(target: Target): Result {
    return this.makeResult(target, 'cancelled', CANCELLED, {}, performance.now(), 0);
  }

  /** Counts `result` and buffers it; true when done, false when the caller must wait for `channel.push`. */
  tryDeliver(result: Result): boolean {
    countStatus(this.counts, result.status);
    this.done++;
    return this.channel.tryPush(result);
  }

  deliver(result: Result): Promise<unknown> | undefined {
    return this.tryDeliver(result) ? undefined : this.channel.push(result);
  }

  /** A timeout after the loop was blocked for a large share of the attempt: not trusted (see blockedShareMs). */
  blockedTimeout(observation: Observation, attemptStartMs: number): Observation | StalledAttempt {
    const blockedMs = this.monitor.blockedMsSince(attemptStartMs);
    return blockedMs >= this.blockedMsLimit
      ? new StalledAttempt(observation, 'blocked', blockedMs)
      : observation;
  }

  /** Maps whatever a check threw to a status: which deadline fired, or cancel, or an error. */
  classify(err: unknown, deadline: Deadline, attemptStartMs: number): Observation | StalledAttempt {
    const reason = deadline.aborted ? deadline.signal.reason : err;
    if (reason instanceof LateResultError) {
      const observation: Observation = {
        status: 'timeout',
        message: `timeout after ${reason.timeoutMs} ms (${reason.message})`,
      };
      // The loop was busy until the check returned: its own synchronous code, or a stall while its answer
      // waited in the socket. Re-run once: an answer that was waiting comes again, a blocking check blocks again.
      return new StalledAttempt(observation, 'late-result', reason.lateMs);
    }
    if (reason instanceof DeadlineError) {
      const observation: Observation = { status: 'timeout', message: `timeout after ${reason.timeoutMs} ms` };
      const lateMs = deadline.timerLateMs ?? 0;
      return lateMs >= this.lateMsLimit
        ? new StalledAttempt(observation, 'deadline', lateMs)
        : this.blockedTimeout(observation, attemptStartMs);
    }
    if (this.cancelled) return { status: 'error', message: 'cancelled' }; // the job records `cancelled`
    return { status: 'error', message: describeError(err) };
  }

  /**
   * A slot freed: wakes the producer waiting for room (or for the last job to end). It waits until 1/32 of
   * the limit is free and then fills those slots in a row: one wake per target costs it a promise and a
   * turn each time (~0.7 µs per result at 256 in flight), for an in-flight count ~1.5% lower on average.
   */
  jobEnded(): void {
    this.inFlight--;
    const room = this.#roomWaiter;
    if (room !== undefined && this.inFlight <= this.limit - Math.max(1, this.limit >> 5)) {
      this.#roomWaiter = undefined;
      room();
    }
    const idle = this.#idleWaiter;
    if (idle !== undefined && this.inFlight === 0) {
      this.#idleWaiter = undefined;
      idle();
    }
  }

  #room(): Promise<void> {
    return new Promise((resolve) => {
      this.#roomWaiter = resolve;
    });
  }

  #idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idleWaiter = resolve;
    });
  }

  /** Changes the in-flight limit: lowering it lets running jobs finish, raising it lets the producer on. */
  #setLimit(limit: number): void {
    this.limit = limit;
    const room = this.#roomWaiter;
    if (room !== undefined && this.inFlight < limit) {
      this.#roomWaiter = undefined;
      room();
    }
  }

  async #produce(): Promise<void> {
    const { monitor, spec, channel } = this;
    const releaseMonitor = monitor.acquire();
    const unsubscribe = monitor.onStall((stallMs) => {
      this.#stalls++;
      if (stallMs > this.#longestStallMs) this.#longestStallMs = stallMs;
    });
    if (spec.adaptiveConcurrency !== false) {
      this.#adaptive = new AdaptiveConcurrency({
        ceiling: this.concurrency,
        highLagMs: highLagMs(this.timeoutMs),
        lagMs: () => monitor.takeLagMs(),
        onChange: (limit) => this.#setLimit(limit),
      });
      this.#adaptive.start();
    }
    let sourceError: unknown;
    try {
      await this.check
        .prepare?.(this.cancelController.signal)
        .catch((err: unknown) => this.log.warn({ err }, 'check not prepared'));
      const batches = (spec.targets as Partial<BatchedTargets>)[TARGET_BATCHES];
      if (batches !== undefined) {
        // One `await` per batch of the source (a chunk of a file's lines), not per target.
        feed: for await (const batch of batches.call(spec.targets)) {
          const names = 'kind' in batch ? batch.names : undefined;
          const targets = 'kind' in batch ? undefined : batch;
          const n = names !== undefined ? names.length : (targets as readonly Target[]).length;
          for (let i = 0; i < n; i++) {
            if (channel.closed) break feed;
            const target = names !== undefined ? nameTarget(names[i]!) : (targets as readonly Target[])[i]!;
            const waiting = this.#offer(target);
            if (waiting !== undefined) await waiting;
          }
        }
      } else {
        for await (const target of spec.targets) {
          if (channel.closed) break;
          const waiting = this.#offer(target);
          if (waiting !== undefined) await waiting;
        }
      }
    } catch (err) {
      sourceError = err;
      this.cancel(err);
    } finally {
      await this.#idle();
      this.#adaptive?.stop();
      unsubscribe();
      releaseMonitor();
      spec.signal?.removeEventListener('abort', this.#onParentAbort);
      this.deadlines.dispose();
      // Last: a consumer that sees the end finds the run over.
      channel.end(sourceError);
    }
  }

  /**
   * One target from the source: a cancelled result once the run is cancelled, else started when the rate and
   * the in-flight limit let it. Undefined when done at once (the usual case: no promise per target), else
   * what to wait for before the next target.
   */
  #offer(target: Target): Promise<unknown> | undefined {
    if (this.cancelled) return this.deliver(this.cancelledResult(target));
    if (this.rate !== undefined || this.inFlight >= this.limit) return this.#offerLater(target);
    this.inFlight++;
    new TargetJob(this, target).start();
    return undefined;
  }

  async #offerLater(target: Target): Promise<void> {
    if (this.rate) {
      try {
        await this.rate.acquire(this.cancelController.signal);
      } catch {
        await this.deliver(this.cancelledResult(target));
        return;
      }
    }
    while (this.inFlight >= this.limit) await this.#room();
    this.inFlight++;
    new TargetJob(this, target).start();
  }

  results(): AsyncGenerator<Result, void, undefined> {
    return new RunResults(this);
  }

  sinkTo(sink: (result: Result) => boolean): void {
    this.channel.sinkTo(sink);
  }

  /** Starts producing (at the first `next()` of `results()`, as a generator's body would start). */
  start(): Promise<void> {
    if (this.#started) throw new Error('RunExecution.results() can be iterated only once');
    this.#started = true;
    const signal = this.spec.signal;
    if (signal?.aborted) this.#onParentAbort();
    else signal?.addEventListener('abort', this.#onParentAbort, { once: true });
    return this.#produce();
  }

  /** A consumer that stopped early: cancels the rest and waits for the run to wind down. */
  async stopped(producing: Promise<void>): Promise<void> {
    this.cancel(new CancelledError('result consumer stopped'));
    await producing;
  }
}

/**
 * The results of a run, as an async generator would give them but written by hand: an item already buffered
 * costs the channel's one promise, not the several of a generator's `yield*`.
 */
class RunResults implements AsyncGenerator<Result, void, undefined> {
  readonly #run: EngineRun;
  readonly #items: ChannelIterator<Result>;
  #producing: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(run: EngineRun) {
    this.#run = run;
    this.#items = run.channel[Symbol.asyncIterator]();
  }

  next(): Promise<IteratorResult<Result, void>> {
    if (this.#stopping) return this.#stopping.then(() => DONE);
    if (this.#producing === undefined) {
      try {
        this.#producing = this.#run.start();
      } catch (err) {
        this.#stopping = Promise.resolve();
        return Promise.reject(err);
      }
    }
    // The run ends its channel last, after everything else: its end (or its error) needs no more work here.
    return this.#items.next();
  }

  #stop(): Promise<void> {
    void this.#items.return();
    // Never started: like a generator returned before its first step, nothing ran and nothing is left.
    this.#stopping ??= this.#producing ? this.#run.stopped(this.#producing) : Promise.resolve();
    return this.#stopping;
  }

  return(): Promise<IteratorResult<Result, void>> {
    return this.#stop().then(() => DONE);
  }

  throw(err: unknown): Promise<IteratorResult<Result, void>> {
    return this.#stop().then(() => {
      throw err;
    });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const DONE: IteratorResult<never, void> = { value: undefined, done: true };

/**
 * One target's way through the engine: its attempts (each raced against its deadline), then its one result.
 * Callbacks, not async functions: see EngineRun.
 */
class TargetJob {
  readonly #run: EngineRun;
  readonly #target: Target;
  readonly #t0 = performance.now();
  #attempts = 0;
  /** Whether the one re-run after a stall has been spent. */
  #rerun = false;
  #deadline: Deadline | undefined;
  #attemptStartMs = 0;
  /** Whether this attempt's signal may go to a later check: it was given to nothing but a recycling check. */
  #recycle = false;
  /** The target with the address resolved from its name, when the check needs one. */
  #subject: Target;
  #ended = false;

  constructor(run: EngineRun, target: Target) {
    this.#run = run;
    this.#target = target;
    this.#subject = target;
  }

  start(): void {
    try {
      this.#attempt();
    } catch (err) {
      this.#failed(err);
    }
  }

  /**
   * A throw from the engine's own code (a check's lands in `classify`) is a bug; the target still gets its
   * one result and its slot back.
   */
  #failed(err: unknown): void {
    const run = this.#run;
    run.log.error({ err }, 'engine job failed');
    this.#deadline?.dispose();
    this.#deadline = undefined;
    if (this.#ended) return;
    const message = { message: `engine failure: ${describeError(err)}` };
    this.#end(run.makeResult(this.#target, 'error', message, {}, this.#t0, this.#attempts));
  }

  #attempt(): void {
    const run = this.#run;
    this.#attempts++;
    this.#attemptStartMs = performance.now();
    const deadline = run.deadlines.create(run.timeoutMs);
    this.#deadline = deadline;
    this.#recycle = run.recycleSignals;
    if (deadline.aborted) {
      this.#attempted(run.classify(deadline.signal.reason, deadline, this.#attemptStartMs));
      return;
    }
    const target = this.#target;
    if (target.address === undefined && run.check.needsAddress !== false && target.name !== undefined) {
      this.#recycle = false;
      const name = target.name;
      run.resolve(name, deadline.signal).then(
        (addresses) => {
          const address = addresses[0];
          try {
            if (address === undefined)
              this.#attempted({ status: 'error', message: `no address for ${name}` });
            else this.#runCheck({ ...target, address });
          } catch (err) {
            this.#failed(err);
          }
        },
        (err: unknown) => {
          try {
            this.#attempted(run.classify(err, deadline, this.#attemptStartMs));
          } catch (bug) {
            this.#failed(bug);
          }
        },
      );
      return;
    }
    this.#runCheck(target);
  }

  #runCheck(subject: Target): void {
    const run = this.#run;
    const deadline = this.#deadline as Deadline;
    this.#subject = subject;
    // Never start a check whose signal has already fired: a listener added now would never be called.
    if (deadline.aborted) {
      this.#attempted(run.classify(deadline.signal.reason, deadline, this.#attemptStartMs));
      return;
    }
    const ctx: CheckContext = {
      signal: deadline.signal,
      abortHook: deadline,
      deadline: deadline.at,
      timeoutMs: run.timeoutMs,
      log: run.log,
      resolve: run.resolve,
    };
    // Raced against the deadline and validated. An observation the check returns within the settle grace
    // stands even if the deadline fired meanwhile: the check decides (http's stream mode passes a body
    // still flowing at the deadline).
    raceDeadline(() => run.check.run(subject, run.spec.args, ctx), deadline, run.check.name, this.#checked);
  }

  readonly #checked = (err: unknown, observation: Observation | undefined, readAfterStall: boolean): void => {
    try {
      this.#judge(err, observation, readAfterStall);
    } catch (bug) {
      this.#failed(bug);
    }
  };

  #judge(err: unknown, observation: Observation | undefined, readAfterStall: boolean): void {
    const run = this.#run;
    if (observation === undefined) {
      this.#attempted(run.classify(err, this.#deadline as Deadline, this.#attemptStartMs));
      return;
    }
    if (readAfterStall) {
      run.overload.answersReadAfterStall++;
      overloadTotals.answersReadAfterStall++;
    }
    const subject = this.#subject;
    const observed =
      subject === this.#target
        ? observation
        : { ...observation, data: { address: subject.address, ...observation.data } };
    // A timeout the check saw itself (dns: no reply to any of its attempts) is judged as a fired deadline is.
    this.#attempted(
      observed.status === 'timeout' ? run.blockedTimeout(observed, this.#attemptStartMs) : observed,
    );
  }

  /** One attempt ended: again, or the result. */
  #attempted(outcome: Observation | StalledAttempt): void {
    const run = this.#run;
    const deadline = this.#deadline as Deadline;
    if (this.#recycle) run.deadlines.recycle(deadline);
    else deadline.dispose();
    this.#deadline = undefined;
    if (run.cancelled) {
      const data = outcome instanceof StalledAttempt ? outcome.observation.data : outcome.data;
      this.#end(run.makeResult(this.#target, 'cancelled', CANCELLED, data ?? {}, this.#t0, this.#attempts));
      return;
    }
    let observation: Observation;
    if (outcome instanceof StalledAttempt) {
      // The loop was blocked past the deadline: the target may never have had its chance. Once more,
      // outside the count of `retries`; stalled again, the client is the bottleneck, not the target.
      if (!this.#rerun) {
        this.#rerun = true;
        run.overload.rechecks++;
        overloadTotals.rechecks++;
        this.#attempt();
        return;
      }
      // Stalled for half the budget or more on the re-run too: the target never had its chance, the client
      // is the bottleneck. A shorter stall left the target most of its time: its `timeout`. A check that
      // returned late twice most likely blocks the loop itself: its `timeout` too.
      if (outcome.kind !== 'late-result' && isClientOverload(outcome.lateMs, run.timeoutMs)) {
        run.overload.overloadErrors++;
        overloadTotals.overloadErrors++;
        observation = { status: 'error', message: new ClientOverloadError().message };
      } else observation = outcome.observation;
    } else observation = outcome;
    const retryable = observation.status === 'error' || observation.status === 'timeout';
    if (retryable && this.#attempts - (this.#rerun ? 1 : 0) <= run.retries) {
      this.#attempt();
      return;
    }
    this.#end(
      run.makeResult(
        this.#target,
        observation.status,
        observation,
        observation.data ?? {},
        this.#t0,
        this.#attempts,
      ),
    );
  }

  /** Delivers the result (waiting for room in the channel if need be), then frees the slot. */
  #end(result: Result): void {
    this.#ended = true;
    const run = this.#run;
    const delivering = run.deliver(result);
    if (delivering === undefined) {
      run.jobEnded();
      return;
    }
    delivering.then(
      () => run.jobEnded(),
      (err: unknown) => {
        run.log.error({ err }, 'engine job failed'); // push rejects only after end(): a bug
        run.jobEnded();
      },
    );
  }
}
