import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Target } from '../targets/target.js';

/** What a check observed. A down target is data: return `error`/`fail`/`timeout`, do not throw. */
export interface Observation {
  status: 'pass' | 'fail' | 'error' | 'timeout';
  /** One line, human-readable: "200 OK", "connect ECONNREFUSED", "expected 2xx, got 503". */
  message: string;
  /** Check-specific observations (timings, status code, rcode, exit code...). */
  data?: Record<string, unknown>;
}

export interface CheckContext {
  /** Aborted at the deadline (reason: DeadlineError) or on cancel (reason: CancelledError). */
  readonly signal: AbortSignal;
  /** Epoch ms at which the deadline fires. */
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Resolves hostnames (the run's resolver): A then AAAA. */
  readonly resolve: (name: string, signal: AbortSignal) => Promise<string[]>;
}

/**
 * The extension point: a name, an argument schema, a default timeout, and `run`.
 * `run` must honour `ctx.signal`: on abort it destroys its sockets/connections and settles promptly.
 * If it throws, the engine turns the exception into an `error` result (or `timeout` if the deadline fired).
 */
export interface Check<Args = unknown> {
  readonly name: string;
  readonly description: string;
  /** Validates and defaults the arguments (zod schema). */
  readonly args: z.ZodType<Args>;
  /** Default per-target deadline in milliseconds. */
  readonly timeoutMs: number;
  /**
   * Whether a target given by name must be resolved to an address before `run` (default true).
   * The `dns` check sets false: its targets may be bare names.
   */
  readonly needsAddress?: boolean;
  /** Default port when neither the target nor the arguments set one. */
  readonly defaultPort?: number;
  run(target: Target, args: Args, ctx: CheckContext): Promise<Observation>;
}

/** Identity helper that infers `Args` from the schema: `export default defineCheck({ ... })`. */
export function defineCheck<S extends z.ZodType>(
  check: Omit<Check<z.output<S>>, 'args'> & { args: S; isolate?: 'thread' },
): Check<z.output<S>> & { isolate?: 'thread' } {
  return check as unknown as Check<z.output<S>> & { isolate?: 'thread' };
}
