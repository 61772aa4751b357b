/** What an abort hook calls: the shape of an `EventListenerObject`, so one object can listen to either. */
export interface AbortListener {
  handleEvent(): void;
}

/**
 * A cheap way to hear a signal abort, for code that runs once per target: one listener at a time, set and
 * removed by a field write. An `abort` listener on the signal itself costs ~2 µs per check (node's
 * EventTarget add and remove, and the engine's check that none is left before it reuses the signal).
 */
export interface AbortHook {
  /** The signal the hook follows: its `reason` is the abort's. */
  readonly signal: AbortSignal;
  /** Whether the signal has aborted. */
  readonly aborted: boolean;
  /**
   * Sets the one listener, called once when the signal aborts, after the signal's own listeners; a second
   * call replaces it and `undefined` removes it. Never called for an abort that happened before: check
   * `aborted` first. Remove it before the work settles, as an event listener would be.
   */
  listen(listener: AbortListener | undefined): void;
}

/** An AbortHook over a plain signal (an `abort` event listener), for callers that have no cheaper one. */
export function signalHook(signal: AbortSignal): AbortHook {
  return new SignalHook(signal);
}

class SignalHook implements AbortHook {
  readonly signal: AbortSignal;
  #listener: AbortListener | undefined;

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  listen(listener: AbortListener | undefined): void {
    if (this.#listener !== undefined) this.signal.removeEventListener('abort', this.#listener);
    this.#listener = listener;
    if (listener !== undefined) this.signal.addEventListener('abort', listener);
  }
}
