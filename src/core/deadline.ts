import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, DeadlineError } from './errors.js';

/**
 * A deadline for one piece of work: an AbortSignal that fires with a `DeadlineError` when `timeoutMs`
 * elapses, or with the parent's reason when the parent aborts first. Call `dispose()` when the work ends
 * so the timer and the parent listener do not outlive it.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Epoch milliseconds at which the deadline fires. */
  readonly at: number;
  readonly timeoutMs: number;
  /** Milliseconds left (never negative). */
  remainingMs(): number;
  dispose(): void;
}

export function createDeadline(timeoutMs: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const at = Date.now() + timeoutMs;
  const onParentAbort = () => controller.abort(parent?.reason ?? new CancelledError());
  let timer: NodeJS.Timeout | undefined;
  if (parent?.aborted) {
    onParentAbort();
  } else {
    parent?.addEventListener('abort', onParentAbort, { once: true });
    timer = setTimeout(() => controller.abort(new DeadlineError(timeoutMs)), timeoutMs);
  }
  return {
    signal: controller.signal,
    at,
    timeoutMs,
    remainingMs: () => Math.max(0, at - Date.now()),
    dispose() {
      if (timer) clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Rejects with `signal.reason` if the signal is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * Runs `fn` with `onAbort` registered on `signal`, removing the listener in `finally`.
 * `onAbort` is where a check destroys its socket / connection / worker: a timeout must stop the work.
 */
export async function withAbort<T>(
  signal: AbortSignal,
  onAbort: (reason: unknown) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const listener = () => onAbort(signal.reason);
  if (signal.aborted) {
    onAbort(signal.reason);
    throw signal.reason;
  }
  signal.addEventListener('abort', listener, { once: true });
  try {
    return await fn();
  } finally {
    signal.removeEventListener('abort', listener);
  }
}

/** A promise that rejects with `signal.reason` when the signal aborts; the listener is removed by `release`. */
export function abortPromise(signal: AbortSignal): { promise: Promise<never>; release: () => void } {
  let listener: (() => void) | undefined;
  const promise = new Promise<never>((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    listener = () => reject(signal.reason);
    signal.addEventListener('abort', listener, { once: true });
  });
  promise.catch(() => {}); // observed by whoever races it; never an unhandled rejection
  return { promise, release: () => listener && signal.removeEventListener('abort', listener) };
}

/** Sleeps `ms`, rejecting with the signal's reason when it aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, undefined, signal ? { signal } : undefined).catch((err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}
