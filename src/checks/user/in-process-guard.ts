import { AsyncLocalStorage } from 'node:async_hooks';
import { describeError, FleetprobeError } from '../../core/errors.js';
import type { Target } from '../../targets/target.js';
import type { CheckContext, Observation } from '../check.js';
import { StallWatchdog } from './stall-watchdog.js';
import type { UserCheck } from './validate-check-export.js';

/**
 * An in-process user check did something that would take the process down: left a promise rejection
 * unhandled, threw from a callback, or called `process.exit()`. The target's result is `error` with this
 * message; the run goes on.
 */
export class UserCheckFaultError extends FleetprobeError {
  constructor(message: string) {
    super('FP_USER_CHECK_FAULT', message);
  }
}

/** One call of a user check's `run()`: everything its code schedules carries it (AsyncLocalStorage). */
interface Attempt {
  readonly check: string;
  readonly target: string;
  readonly signal: AbortSignal;
  settled: boolean;
  readonly fail: (err: UserCheckFaultError) => void;
}

/**
 * The process-wide guard around in-process user checks, installed when the first one runs and kept for the
 * life of the process (user code may fault long after its result):
 * - an unhandled rejection or uncaught exception raised by code a check scheduled fails that check's
 *   attempt (`error`, FP_USER_CHECK_FAULT); after its result it is reported on stderr instead;
 * - `process.exit()` called from a check's code fails the attempt and throws instead of exiting;
 * - faults that belong to no check are left to the process's other listeners; when there are none, an
 *   unhandled rejection is reported on stderr (the run goes on) and an uncaught exception ends the
 *   process as a fault of fleetprobe (exit 70);
 * - a check that blocks the event loop far past its deadline is ended by the `StallWatchdog`.
 * What it cannot catch: `process.abort()`, `process.kill(process.pid)`, native crashes, and code that
 * escapes the check's async context (work started at module top level).
 */
class InProcessGuard {
  readonly #als = new AsyncLocalStorage<Attempt>();
  readonly #watchdog = new StallWatchdog();
  readonly #thrown = new WeakSet<object>();
  #originalExit: typeof process.exit | undefined;

  /** Runs `check.run(target, args, ctx)` under the guard; resolves or rejects as the check does, or with a fault. */
  run(check: UserCheck, target: Target, args: unknown, ctx: CheckContext): Promise<Observation> {
    this.#install();
    this.#watchdog.watch(check.name);
    let reject!: (err: unknown) => void;
    const fault = new Promise<never>((_, r) => {
      reject = r;
    });
    const attempt: Attempt = {
      check: check.name,
      target: target.address ?? target.name ?? '?',
      signal: ctx.signal,
      settled: false,
      fail: reject,
    };
    const release = this.#watchdog.enter(ctx.deadline, ctx.signal);
    const running = (async () => this.#als.run(attempt, () => check.run(target, args, ctx)))();
    return Promise.race([running, fault]).finally(() => {
      attempt.settled = true;
      release();
    });
  }

  #install(): void {
    if (this.#originalExit) return;
    const originalExit = process.exit;
    this.#originalExit = originalExit;
    const als = this.#als;
    const thrown = this.#thrown;
    const attribute = this.#attribute.bind(this);
    process.exit = function guardedExit(code?: number | string | null): never {
      const attempt = als.getStore();
      if (!attempt) return originalExit.call(process, code);
      const err = new UserCheckFaultError(`check called process.exit(${code ?? ''})`);
      thrown.add(err);
      attribute(attempt, err);
      throw err;
    } as typeof process.exit;
    process.on('unhandledRejection', this.#onRejection);
    process.on('uncaughtException', this.#onException);
  }

  readonly #onRejection = (reason: unknown): void => {
    const attempt = this.#als.getStore();
    if (attempt) {
      this.#attribute(attempt, new UserCheckFaultError(`unhandled rejection: ${describeError(reason)}`));
    } else if (process.listenerCount('unhandledRejection') === 1) {
      warn(`unhandled rejection outside any check (ignored): ${describeError(reason)}`);
    }
  };

  readonly #onException = (err: unknown): void => {
    if (typeof err === 'object' && err !== null && this.#thrown.has(err)) return; // our process.exit() throw
    const attempt = this.#als.getStore();
    if (attempt) {
      this.#attribute(attempt, new UserCheckFaultError(`uncaught exception: ${describeError(err)}`));
    } else if (process.listenerCount('uncaughtException') === 1) {
      process.stderr.write(
        `fleetprobe: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      this.#originalExit?.call(process, 70);
    }
  };

  /** Fails the attempt while the engine still waits for it; reports the fault on stderr otherwise. */
  #attribute(attempt: Attempt, err: UserCheckFaultError): void {
    if (!attempt.settled && !attempt.signal.aborted) {
      attempt.fail(err);
      return;
    }
    warn(`check "${attempt.check}" for ${attempt.target}, after its result: ${err.message}`);
  }
}

function warn(line: string): void {
  process.stderr.write(`fleetprobe: warning: ${line.split('\n')[0]?.slice(0, 500)}\n`);
}

const guard = new InProcessGuard();

/**
 * Wraps an in-process user check so that its faults land in its results (see InProcessGuard above) and a
 * busy loop cannot outlive its deadline by more than STALL_KILL_GRACE_MS.
 */
export function guardInProcess(check: UserCheck): UserCheck {
  const wrapper = Object.assign(Object.create(Object.getPrototypeOf(check) as object) as object, check, {
    run: (target: Target, args: unknown, ctx: CheckContext) => guard.run(check, target, args, ctx),
  }) as UserCheck;
  return Object.freeze(wrapper);
}
