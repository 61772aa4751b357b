/**
 * Waits `ms`, or rejects with `signal.reason` when `signal` aborts (the timer is cleared then). Built on the
 * global `setTimeout`, not on `timers/promises` as `core/deadline`'s `delay` is, so that fake timers drive it
 * in tests where time is the subject (pacing, backoff).
 */
export function timerWait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
