import { clip, clipQuoted } from './text.js';

/**
 * One base error with a stable string `code`; a subclass per kind of failure; `cause` always kept.
 * Codes are documented in docs/errors.md. A target that is down is *data* (a result), not an exception:
 * these errors are for bad input and for faults of fleetprobe itself, and as abort reasons.
 */
export class FleetprobeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad command-line usage or input: exit status 2, nothing was run. */
export class UsageError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_USAGE', message, options);
  }
}

/** A target spec or targets-file entry that cannot be parsed. `where` is `file:line` or `argument`. */
export class TargetParseError extends FleetprobeError {
  readonly where: string;
  constructor(where: string, message: string, options?: { cause?: unknown }) {
    // Input is quoted in the reason: a huge bad line is cut, never echoed whole.
    super('FP_BAD_TARGET', clipQuoted(`${clip(where)}: ${message}`), options);
    this.where = where;
  }
}

/** Check arguments that do not match the check's schema. */
export class CheckArgsError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_BAD_CHECK_ARGS', message, options);
  }
}

/** The per-target deadline fired. `phase` says which part of the check was running (connect, tls, ...). */
export class DeadlineError extends FleetprobeError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, message = `deadline of ${timeoutMs} ms exceeded`) {
    super('FP_DEADLINE', message);
    this.timeoutMs = timeoutMs;
  }
}

/** The run (or the scheduler owning the job) was cancelled. */
export class CancelledError extends FleetprobeError {
  constructor(message = 'cancelled') {
    super('FP_CANCELLED', message);
  }
}

/**
 * The process running the run was told to stop (SIGINT/SIGTERM): as an abort reason it makes the stored run
 * `interrupted` rather than `cancelled`. Code `FP_INTERRUPTED`.
 */
export class InterruptedError extends FleetprobeError {
  constructor(message = 'interrupted') {
    super('FP_INTERRUPTED', message);
  }
}

/** `Scheduler.close({ timeout })` gave up waiting and aborted the jobs still running. */
export class CloseTimeoutError extends FleetprobeError {
  constructor(message: string) {
    super('FP_CLOSE_TIMEOUT', message);
  }
}

/** The scheduler was closed: no new work is accepted. */
export class SchedulerClosedError extends FleetprobeError {
  constructor() {
    super('FP_SCHEDULER_CLOSED', 'scheduler is closed: no new jobs are accepted');
  }
}

export function isFleetprobeError(err: unknown, code?: string): err is FleetprobeError {
  return err instanceof FleetprobeError && (code === undefined || err.code === code);
}

/** A short one-line description of any thrown value, for result messages. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const msg = err.message || err.name;
    return typeof code === 'string' && !msg.includes(code) ? `${code} ${msg}` : msg;
  }
  return String(err);
}
