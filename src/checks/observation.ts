import * as z from 'zod';
import { FleetprobeError } from '../core/errors.js';
import type { Observation } from './check.js';

/** The statuses a check may return (`cancelled` is the engine's alone). */
export const OBSERVATION_STATUSES = ['pass', 'fail', 'error', 'timeout'] as const;

/** Longer messages are cut to this many characters (a result message is one line for a human). */
export const MAX_OBSERVATION_MESSAGE_CHARS = 1_000;

/** A check returned something that is not an `Observation`; the engine records `error` with this message. */
export class InvalidObservationError extends FleetprobeError {
  constructor(message: string) {
    super('FP_BAD_OBSERVATION', message);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

const observationSchema = z.object({
  status: z.enum(OBSERVATION_STATUSES),
  message: z.string(),
  reason: z.string().optional(),
  data: z.custom<Record<string, unknown>>(isPlainObject, 'expected a plain object').optional(),
});

/**
 * Checks that `value` honours the Observation contract and returns it as one: `status` one of
 * pass|fail|error|timeout, `message` a string (cut to MAX_OBSERVATION_MESSAGE_CHARS), `reason` absent or a
 * string, `data` absent or a plain object. Other fields are dropped.
 * @throws InvalidObservationError naming `check` and every field that is wrong.
 */
export function validateObservation(value: unknown, check: string): Observation {
  const fast = wellFormed(value);
  if (fast !== undefined) return fast;
  const parsed = observationSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      if (issue.path.length === 0) return issue.message;
      const field = issue.path[0] as string;
      const got = describeValue((value as Record<string, unknown>)[field]);
      return `${issue.path.join('.')}: ${issue.message} (got ${got})`;
    });
    const got = value === null || typeof value !== 'object' ? ` (got ${describeValue(value)})` : '';
    throw new InvalidObservationError(
      `check "${check}" returned an invalid observation${got}: ${problems.join('; ')}`,
    );
  }
  const { status, message, reason, data } = parsed.data;
  const cut =
    message.length > MAX_OBSERVATION_MESSAGE_CHARS
      ? `${message.slice(0, MAX_OBSERVATION_MESSAGE_CHARS)}… (${message.length - MAX_OBSERVATION_MESSAGE_CHARS} more characters cut)`
      : message;
  const observation: Observation = { status, message: cut };
  if (reason !== undefined) observation.reason = reason; // cut to MAX_REASON_CHARS by reasonOf()
  if (data !== undefined) observation.data = data;
  return observation;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

const STATUS_SET: ReadonlySet<unknown> = new Set(OBSERVATION_STATUSES);

/**
 * The observation of a well-formed `value` with a message short enough to keep whole, built without zod (one
 * per result; the schema's parse costs several µs); undefined for anything else, which the schema judges.
 */
function wellFormed(value: unknown): Observation | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { status, message, reason, data } = value as Record<string, unknown>;
  if (
    !STATUS_SET.has(status) ||
    typeof message !== 'string' ||
    message.length > MAX_OBSERVATION_MESSAGE_CHARS
  )
    return undefined;
  if (reason !== undefined && typeof reason !== 'string') return undefined;
  if (data !== undefined && !isPlainObject(data)) return undefined;
  const observation: Observation = { status: status as Observation['status'], message };
  if (reason !== undefined) observation.reason = reason;
  if (data !== undefined) observation.data = data as Record<string, unknown>;
  return observation;
}
