import type { MessagePort } from 'node:worker_threads';
import { CancelledError, DeadlineError, FleetprobeError } from '../../core/errors.js';
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
  /** Receives one `SerializedError` when the parent aborts (cancel, or its deadline): a cooperative stop. */
  readonly abortPort: MessagePort;
}

/** Asks a check worker to import the module now (`warmThreadPool`), so the first check does not wait for it. */
export interface WarmTask {
  readonly warm: true;
  readonly modulePath: string;
  readonly file: string;
  /**
   * A barrier over a SharedArrayBuffer: each task counts itself in, then waits for `count` arrivals, so
   * that every task of the warm-up holds its own thread (a thread that finished early would take another).
   */
  readonly arrived: Int32Array;
  readonly count: number;
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

/**
 * Rebuilds a serialized error: fleetprobe's deadline and cancel errors become their classes again (so the
 * result is `timeout`/`cancelled`), other FP_ codes a `FleetprobeError`, anything else an `Error` with the
 * same name, message and `code`. `timeoutMs` is the deadline to report for `FP_DEADLINE`.
 */
export function deserializeError(e: SerializedError, timeoutMs: number): Error {
  let err: Error;
  if (e.code === 'FP_DEADLINE') err = new DeadlineError(timeoutMs);
  else if (e.code === 'FP_CANCELLED') err = new CancelledError(e.message);
  else if (e.code?.startsWith('FP_')) err = new FleetprobeError(e.code, e.message);
  else {
    err = new Error(e.message);
    err.name = e.name;
    if (e.code !== undefined) Object.assign(err, { code: e.code });
  }
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}
