import type { Target } from '../../targets/target.js';
import type { Observation } from '../check.js';

/** One task posted to a check worker. Everything here is structured-cloned across the thread boundary. */
export interface ThreadTask {
  /** Absolute path of the user module; the worker imports it once and caches it. */
  readonly modulePath: string;
  /** The path as the user gave it, for messages. */
  readonly file: string;
  readonly target: Target;
  /** Arguments already validated (and defaulted) by the schema in the parent. */
  readonly args: unknown;
  /** Epoch ms of the deadline: the worker aborts its own signal then (cooperative stop). */
  readonly deadline: number;
  readonly timeoutMs: number;
  /** pino level for the worker-side logger ('silent' writes nothing). */
  readonly logLevel: string;
}

/** A thrown value, flattened so that name, message, code and stack survive the thread boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

export type ThreadReply =
  | { readonly ok: true; readonly observation: Observation }
  | { readonly ok: false; readonly error: SerializedError };

export const OBSERVATION_STATUSES: readonly Observation['status'][] = ['pass', 'fail', 'error', 'timeout'];

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(err.stack !== undefined ? { stack: err.stack } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

/** Returns a problem description, or undefined when `value` is a valid Observation. */
export function observationProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'run() did not return an object';
  const obs = value as Record<string, unknown>;
  if (!OBSERVATION_STATUSES.includes(obs.status as Observation['status'])) {
    return `status ${JSON.stringify(obs.status)} is not one of ${OBSERVATION_STATUSES.join(', ')}`;
  }
  if (typeof obs.message !== 'string') return 'message is not a string';
  if (
    obs.data !== undefined &&
    (obs.data === null || typeof obs.data !== 'object' || Array.isArray(obs.data))
  ) {
    return 'data is not an object';
  }
  return undefined;
}
