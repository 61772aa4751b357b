import { isoTime } from '../core/iso-time.js';
import type { Target } from '../targets/target.js';
import { reasonOf } from './reason.js';
import type { Result, Status } from './result.js';

/** What decides a result's port besides the target's own: the check's report, its `port` argument, its default. */
export interface PortSources {
  /** The port the check reports having used (`data.port`; http's depends on the scheme). */
  readonly reported?: unknown;
  /** The run's validated check arguments (their `port`, when a number). */
  readonly args?: unknown;
  readonly defaultPort?: number | undefined;
}

/**
 * A result's port: the target's own, then the one the check reports, then the `port` argument, then the
 * check's default; null when none. The store keys results by (run, target, port), so every place that makes
 * a result (engine, worker, coordinator) must use this one rule.
 */
export function resultPort(target: Target, from: PortSources): number | null {
  const argPort = (from.args as { port?: unknown } | undefined)?.port;
  return (
    target.port ??
    (typeof from.reported === 'number' ? from.reported : undefined) ??
    (typeof argPort === 'number' ? argPort : undefined) ??
    from.defaultPort ??
    null
  );
}

/** Everything of a result but what the target decides. */
export interface ResultFields {
  readonly status: Status;
  readonly message: string;
  /** The stable template of the message; default: the message masked (`reasonOf`). */
  readonly reason?: string | undefined;
  readonly data?: Record<string, unknown>;
  readonly durationMs?: number;
  /** ISO-8601; default now. */
  readonly startedAt?: string;
  readonly attempts?: number;
}

/**
 * Builds the result of `target` in run `runId`: the target is its address (else its name), the port follows
 * `resultPort`. Used for checked targets and for synthetic ones (cancelled, dead-lettered) alike, so both hit
 * the same stored row.
 */
export function resultFor(
  runId: string,
  check: { readonly name: string; readonly defaultPort?: number | undefined },
  args: unknown,
  target: Target,
  fields: ResultFields,
): Result {
  const data = fields.data ?? {};
  return {
    run: runId,
    target: target.address ?? target.name ?? '',
    port: resultPort(target, { reported: data.port, args, defaultPort: check.defaultPort }),
    name: target.name ?? null,
    labels: target.labels as Record<string, string>,
    check: check.name,
    status: fields.status,
    durationMs: fields.durationMs ?? 0,
    startedAt: fields.startedAt ?? isoTime(Date.now()),
    attempts: fields.attempts ?? 0,
    message: fields.message,
    reason: reasonOf(fields),
    data,
  };
}
