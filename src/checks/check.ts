import type { Logger } from 'pino';
import type * as z from 'zod';
import { type AbortHook, signalHook } from '../core/abort-hook.js';
import type { Target } from '../targets/target.js';

/** What a check observed. A down target is data: return `error`/`fail`/`timeout`, do not throw. */
export interface Observation {
  status: 'pass' | 'fail' | 'error' | 'timeout';
  /** One line, human-readable: "200 OK", "connect ECONNREFUSED", "expected 2xx, got 503". */
  message: string;
  /**
   * The stable template of `message` that failure groups are keyed by, with the variable parts named in angle
   * brackets and their values in `data`: `expected <expected>, got <got>`. Default: the message with addresses
   * and numbers masked (`maskMessage`), which suits messages that are already stable (`connect ECONNREFUSED`).
   */
  reason?: string;
  /** Check-specific observations (timings, status code, rcode, exit code...). */
  data?: Record<string, unknown>;
}

export interface CheckContext {
  /** Aborted at the deadline (reason: DeadlineError) or on cancel (reason: CancelledError). */
  readonly signal: AbortSignal;
  /**
   * `signal`'s abort as a hook (one listener, no EventTarget: ~2 µs a check cheaper than an `abort`
   * listener). The engine gives one; a context made elsewhere may not: use `abortHookOf(ctx)`.
   */
  readonly abortHook?: AbortHook;
  /** Epoch ms at which the deadline fires. */
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Resolves hostnames (the run's resolver): A then AAAA. */
  readonly resolve: (name: string, signal: AbortSignal) => Promise<string[]>;
}

/** The context's AbortHook, or one over its signal when it has none: how built-in checks hear an abort. */
export function abortHookOf(ctx: CheckContext): AbortHook {
  return ctx.abortHook ?? signalHook(ctx.signal);
}

/** Server-side files an API caller refers to by name (`--ssh-identity prod=/etc/...`), never by path. */
export const CREDENTIAL_KINDS = ['sshIdentity', 'knownHosts', 'caBundle'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/**
 * What an argument means to the server, declared once per check in `argRoles`; the API's validation
 * (`validateRunArgs`) applies the rule of each role, so a new check inherits them by declaring its args:
 * - `address`: an address the check contacts (an IP, `IP:PORT`, `[IPv6]:PORT`, or a list of them). Under
 *   an allow-list it must lie inside it, and a hostname is refused, exactly as for targets (403).
 * - a `CredentialKind` (`sshIdentity`, `knownHosts`, `caBundle`): a server-side file. Through the API the
 *   value is the name of a credential the server was configured with, never a path (400 otherwise).
 * - `serverAgent`: a switch that makes the check use the server process's own SSH agent: refused through
 *   the API, and off there.
 * - `serverEnv`: the name of one of the server process's environment variables (ssh's `passphraseEnv`): an
 *   API caller must not choose which of the server's secrets is used, so it is refused through the API.
 * - `pattern`: a user-supplied pattern; its schema must be `patternArg()` (RE2, linear time).
 * The CLI (run by the machine's own user) ignores roles: paths and the agent stay available there.
 */
export const ARG_ROLES = ['address', 'pattern', 'serverAgent', 'serverEnv', ...CREDENTIAL_KINDS] as const;
export type ArgRole = (typeof ARG_ROLES)[number];

export function isCredentialKind(role: ArgRole): role is CredentialKind {
  return (CREDENTIAL_KINDS as readonly string[]).includes(role);
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
  /**
   * Most checks of this kind a run keeps in flight, whatever its concurrency: for a check that queues
   * beyond it (a thread pool), where time spent queued would count against the target's deadline.
   */
  readonly maxInFlight?: number;
  /**
   * Readies what the checks need (a thread pool with the module loaded) before a run starts its first
   * target, so that start-up is not charged to the first targets' deadlines. Failures are the checks' to
   * report: the engine logs and goes on.
   */
  prepare?(signal: AbortSignal): Promise<void>;
  /** The role of each argument that has one (see `ArgRole`); arguments not listed are plain values. */
  readonly argRoles?: Readonly<Record<string, ArgRole>>;
  /**
   * The check removes every listener it adds to `ctx.signal` before it settles and keeps no reference to the
   * signal afterwards (no `AbortSignal.any`, no work left running): the engine may give a signal that never
   * aborted to a later check instead of creating one per check (~5 µs each). Default false.
   */
  readonly releasesSignal?: boolean;
  run(target: Target, args: Args, ctx: CheckContext): Promise<Observation>;
}

/** Identity helper that infers `Args` from the schema: `export default defineCheck({ ... })`. */
export function defineCheck<S extends z.ZodType>(
  check: Omit<Check<z.output<S>>, 'args'> & { args: S; isolate?: 'thread' },
): Check<z.output<S>> & { isolate?: 'thread' } {
  return check as unknown as Check<z.output<S>> & { isolate?: 'thread' };
}
