import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { CheckContext, Observation } from '../checks/check.js';
import { AdaptiveConcurrency } from '../core/adaptive-concurrency.js';
import { Channel } from '../core/channel.js';
import { type Deadline, DeadlineGroup } from '../core/deadline.js';
import { CancelledError, DeadlineError, describeError } from '../core/errors.js';
import { isoTime } from '../core/iso-time.js';
import { loopMonitor } from '../core/loop-monitor.js';
import { RateLimiter } from '../core/rate-limiter.js';
import { Scheduler } from '../core/scheduler.js';
import { systemResolve } from '../targets/system-resolver.js';
import type { Target } from '../targets/target.js';
import {
  answerTiming,
  blockedShareMs,
  ClientOverloadError,
  highLagMs,
  isClientOverload,
  type OverloadCounters,
  overloadTotals,
  stallLateMs,
} from './overload.js';
import { LateResultError, raceDeadline } from './race-deadline.js';
import { emptyCounts, type Result, type Status } from './result.js';
import { resultFor } from './result-for.js';
import type { RunExecution, RunProgress, RunSpec } from './types.js';

export const DEFAULT_CONCURRENCY = 256;
const silentLog = pino({ level: 'silent' });

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

/**
 * Starts a run: targets -> scheduler -> check -> results, one result per target, in completion order.
 * Memory is bounded by the concurrency: the scheduler queue and the result channel are both bounded,
 * so a slow consumer slows the run down instead of piling results up.
 */
export function startRun(spec: RunSpec): RunExecution {
  const id = spec.id ?? randomUUID();
  const check = spec.check;
  const concurrency = Math.min(spec.concurrency ?? DEFAULT_CONCURRENCY, spec.check.maxInFlight ?? Infinity);
  const timeoutMs = spec.timeoutMs ?? check.timeoutMs;
  const retries = spec.retries ?? 0;
  const resolve = spec.resolve ?? systemResolve;
  const log = spec.log ?? silentLog;
  const rate = spec.ratePerSec ? new RateLimiter(spec.ratePerSec) : undefined;

  const cancel = new AbortController();
  const deadlines = new DeadlineGroup(cancel.signal);
  const onParentAbort = () => cancel.abort(spec.signal?.reason ?? new CancelledError());
  const counts = emptyCounts();
  const startedAt = Date.now();
  let done = 0;
  let inFlight = 0;
  let started = false;
  const overload: OverloadCounters = { rechecks: 0, overloadErrors: 0, answersReadAfterStall: 0 };
  let stalls = 0;
  let longestStallMs = 0;
  const lateMsLimit = stallLateMs(timeoutMs);
  const blockedMsLimit = blockedShareMs(timeoutMs);
  const monitor = loopMonitor();
  /** A timeout after the loop was blocked for a large share of the attempt: not trusted (see blockedShareMs). */
  const blockedTimeout = (observation: Observation, attemptStartMs: number): Observation | StalledAttempt => {
    const blockedMs = monitor.blockedMsSince(attemptStartMs);
    return blockedMs >= blockedMsLimit ? new StalledAttempt(observation, 'blocked', blockedMs) : observation;
  };
  let adaptive: AdaptiveConcurrency | undefined;

  const progress = (): RunProgress => ({
    id,
    check: check.name,
    startedAt,
    total: spec.total,
    done,
    inFlight,
    counts: { ...counts },
    overload: {
      ...overload,
      stalls,
      longestStallMs: Math.round(longestStallMs),
      concurrencyLimit: adaptive?.limit ?? concurrency,
      concurrencyCeiling: concurrency,
      lowestConcurrency: adaptive?.lowest ?? concurrency,
    },
  });

  const makeResult = (
    target: Target,
    status: Status,
    observed: { message: string; reason?: string | undefined },
    data: Record<string, unknown>,
    t0: number,
    attempts: number,
  ): Result =>
    resultFor(id, check, spec.args, target, {
      status,
      message: observed.message,
      reason: observed.reason,
      data,
      durationMs: Math.round((performance.now() - t0) * 100) / 100,
      startedAt: isoTime(performance.timeOrigin + t0),
      attempts,
    });

  /** Maps whatever a check threw to a status: which deadline fired, or cancel, or an error. */
  const classify = (
    err: unknown,
    deadline: Deadline,
    attemptStartMs: number,
  ): Observation | StalledAttempt => {
    const { signal } = deadline;
    const reason = signal.aborted ? signal.reason : err;
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
      return lateMs >= lateMsLimit
        ? new StalledAttempt(observation, 'deadline', lateMs)
        : blockedTimeout(observation, attemptStartMs);
    }
    if (cancel.signal.aborted) return { status: 'error', message: 'cancelled' }; // checkTarget records `cancelled`
    return { status: 'error', message: describeError(err) };
  };

  const attemptOnce = async (target: Target): Promise<Observation | StalledAttempt> => {
    const attemptStartMs = performance.now();
    const deadline = deadlines.create(timeoutMs);
    // Whether the signal may go to a later check: the check promised to let go of it, and nothing else
    // (a resolver) was given it.
    let recycle = check.releasesSignal === true;
    try {
      deadline.signal.throwIfAborted();
      let subject = target;
      if (subject.address === undefined && check.needsAddress !== false && subject.name !== undefined) {
        recycle = false;
        const addresses = await resolve(subject.name, deadline.signal);
        const address = addresses[0];
        if (address === undefined) return { status: 'error', message: `no address for ${subject.name}` };
        subject = { ...subject, address };
      }
      const ctx: CheckContext = {
        signal: deadline.signal,
        deadline: deadline.at,
        timeoutMs,
        log,
        resolve,
      };
      // Never start a check whose signal has already fired: a listener added now would never be called.
      deadline.signal.throwIfAborted();
      // Raced against the deadline and validated. An observation the check returns within the settle grace
      // stands even if the deadline fired meanwhile: the check decides (http's stream mode passes a body
      // still flowing at the deadline).
      const observation = await raceDeadline(() => check.run(subject, spec.args, ctx), deadline, check.name);
      if (answerTiming(deadline) === 'read-after-stall') {
        overload.answersReadAfterStall++;
        overloadTotals.answersReadAfterStall++;
      }
      const observed =
        subject === target
          ? observation
          : { ...observation, data: { address: subject.address, ...observation.data } };
      // A timeout the check saw itself (dns: no reply to any of its attempts) is judged as a fired deadline is.
      return observed.status === 'timeout' ? blockedTimeout(observed, attemptStartMs) : observed;
    } catch (err) {
      return classify(err, deadline, attemptStartMs);
    } finally {
      if (recycle) deadlines.recycle(deadline);
      else deadline.dispose();
    }
  };

  const checkTarget = async (target: Target): Promise<Result> => {
    const t0 = performance.now();
    let attempts = 0;
    let rerun = false;
    let observation: Observation;
    for (;;) {
      attempts++;
      const outcome = await attemptOnce(target);
      if (cancel.signal.aborted) {
        const data = outcome instanceof StalledAttempt ? outcome.observation.data : outcome.data;
        return makeResult(target, 'cancelled', { message: 'cancelled' }, data ?? {}, t0, attempts);
      }
      if (outcome instanceof StalledAttempt) {
        // The loop was blocked past the deadline: the target may never have had its chance. Once more,
        // outside the count of `retries`; stalled again, the client is the bottleneck, not the target.
        if (!rerun) {
          rerun = true;
          overload.rechecks++;
          overloadTotals.rechecks++;
          continue;
        }
        // Stalled for half the budget or more on the re-run too: the target never had its chance, the client
        // is the bottleneck. A shorter stall left the target most of its time: its `timeout`. A check that
        // returned late twice most likely blocks the loop itself: its `timeout` too.
        if (outcome.kind !== 'late-result' && isClientOverload(outcome.lateMs, timeoutMs)) {
          overload.overloadErrors++;
          overloadTotals.overloadErrors++;
          observation = { status: 'error', message: new ClientOverloadError().message };
        } else observation = outcome.observation;
      } else observation = outcome;
      const retryable = observation.status === 'error' || observation.status === 'timeout';
      if (!retryable || attempts - (rerun ? 1 : 0) > retries) break;
    }
    return makeResult(target, observation.status, observation, observation.data ?? {}, t0, attempts);
  };

  const channel = new Channel<Result>(concurrency);
  // Not async: a push into a channel with room costs no promise (one result per target goes through here).
  const deliver = (result: Result): Promise<boolean> => {
    counts[result.status]++;
    done++;
    return channel.push(result);
  };

  const produce = async (): Promise<void> => {
    const scheduler = new Scheduler({
      limit: concurrency,
      pendingLimit: 0,
      onError: (err) => log.error({ err }, 'engine job failed'), // checkTarget never throws; a bug if it does
    });
    const releaseMonitor = monitor.acquire();
    const unsubscribe = monitor.onStall((stallMs) => {
      stalls++;
      if (stallMs > longestStallMs) longestStallMs = stallMs;
    });
    if (spec.adaptiveConcurrency !== false) {
      adaptive = new AdaptiveConcurrency({
        ceiling: concurrency,
        highLagMs: highLagMs(timeoutMs),
        lagMs: () => monitor.takeLagMs(),
        onChange: (limit) => scheduler.setLimit(limit),
      });
      adaptive.start();
    }
    let sourceError: unknown;
    try {
      await check.prepare?.(cancel.signal).catch((err: unknown) => log.warn({ err }, 'check not prepared'));
      for await (const target of spec.targets) {
        if (channel.closed) break;
        if (cancel.signal.aborted) {
          await deliver(makeResult(target, 'cancelled', { message: 'cancelled' }, {}, performance.now(), 0));
          continue;
        }
        if (rate) {
          try {
            await rate.acquire(cancel.signal);
          } catch {
            await deliver(
              makeResult(target, 'cancelled', { message: 'cancelled' }, {}, performance.now(), 0),
            );
            continue;
          }
        }
        await scheduler.spawn(async () => {
          inFlight++;
          try {
            await deliver(await checkTarget(target));
          } finally {
            inFlight--;
          }
        });
      }
    } catch (err) {
      sourceError = err;
      cancel.abort(err);
    } finally {
      await scheduler.close();
      adaptive?.stop();
      unsubscribe();
      releaseMonitor();
      channel.end(sourceError);
    }
  };

  return {
    id,
    progress,
    cancel(reason?: unknown) {
      cancel.abort(reason ?? new CancelledError());
    },
    async *results() {
      if (started) throw new Error('RunExecution.results() can be iterated only once');
      started = true;
      if (spec.signal?.aborted) onParentAbort();
      else spec.signal?.addEventListener('abort', onParentAbort, { once: true });
      const producing = produce();
      let finished = false;
      try {
        yield* channel;
        finished = true;
      } finally {
        if (!finished) cancel.abort(new CancelledError('result consumer stopped'));
        spec.signal?.removeEventListener('abort', onParentAbort);
        await producing;
        deadlines.dispose();
      }
    },
  };
}
