import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AbortHook, AbortListener } from './abort-hook.js';
import { CancelledError, DeadlineError } from './errors.js';

/**
 * A deadline for one piece of work: an AbortSignal that fires with a `DeadlineError` when `timeoutMs`
 * elapses (in the check phase of the loop turn whose timers phase saw it expire, so I/O already waiting is
 * read first), or with the parent's reason when the parent aborts first. Call `dispose()` when the work ends
 * so the timer and the parent listener do not outlive it. It is its own signal's AbortHook (the listener
 * runs after the signal's listeners, before the watcher); `dispose` removes the listener.
 */
export interface Deadline extends AbortHook {
  readonly signal: AbortSignal;
  /** Epoch milliseconds at which the deadline fires. */
  readonly at: number;
  readonly timeoutMs: number;
  /**
   * How late, in ms, the deadline's timer ran after `at` (event-loop lag at the deadline); undefined until
   * it has run. A large value means the loop was blocked past the deadline: the work may never have had
   * its chance, so the engine re-runs it once before calling it a timeout.
   */
  readonly timerLateMs: number | undefined;
  /** Whether the signal has aborted (`signal.aborted` without the cost of AbortSignal's checked getter). */
  readonly aborted: boolean;
  /** Milliseconds left (never negative). */
  remainingMs(): number;
  /**
   * Calls `watcher` once when the signal aborts, after the signal's own listeners (at once if it already
   * has); `undefined` stops watching. One watcher per deadline: the engine's, which a listener would cost
   * more (EventTarget's add and remove are ~1 µs together).
   */
  watch(watcher: (() => void) | undefined): void;
  dispose(): void;
}

export function createDeadline(timeoutMs: number, parent?: AbortSignal): Deadline {
  return new TimerDeadline(timeoutMs, new DeadlineGroup(parent), true);
}

/**
 * Many deadlines under one parent signal (a run's cancel signal) with ONE listener on the parent and ONE
 * timer: its deadlines wait in a list ordered by their time (a run gives them all the same timeout, so each
 * new one goes at the end), and the timer is set for the first. EventTarget's add/removeEventListener scan the
 * listeners already attached, so a listener per in-flight check costs O(concurrency) per check (measured: 28 µs
 * per add+remove at 512 in flight, 3 µs at 1); a timer per check costs its Timeout object and the timer list's
 * bookkeeping.
 */
export class DeadlineGroup {
  readonly #parent: AbortSignal | undefined;
  /** Controllers of recycled deadlines, never aborted, ready for `create`. */
  readonly #spare: AbortController[] = [];
  /** The deadlines waiting for their time, earliest first (a doubly-linked list through the deadlines). */
  #head: TimerDeadline | undefined;
  #tail: TimerDeadline | undefined;
  /** The timer, set for `#timerDue` (`performance.now()` ms): the first deadline's time, or earlier. */
  #timer: NodeJS.Timeout | undefined;
  #timerDue = 0;
  /** Deadlines whose time came and whose verdict waits for the check phase (a cancel still overrides it). */
  readonly #firing = new Set<TimerDeadline>();
  readonly #onAbort = () => {
    const reason = this.#parent?.reason;
    for (let d = this.#head; d !== undefined; d = this.#head) {
      this.remove(d);
      d.abortWith(reason);
    }
    for (const d of this.#firing) d.abortWith(reason);
    this.#firing.clear();
  };

  constructor(parent?: AbortSignal) {
    this.#parent = parent;
    parent?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** A deadline firing after `timeoutMs`, or when the parent aborts (with the parent's reason). */
  create(timeoutMs: number): Deadline {
    return new TimerDeadline(timeoutMs, this, false, this.#spare.pop());
  }

  /**
   * Disposes `deadline` and keeps its signal's controller for a later `create`, when the signal never
   * aborted and has no `abort` listener left. Creating an AbortController costs ~5 µs (node builds every
   * AbortSignal as a slow, dictionary-mode object), a large share of a short check. Only for work that is
   * over and that kept no reference to the signal: its holder must not see a later deadline's abort.
   */
  recycle(deadline: Deadline): void {
    deadline.dispose();
    if (!(deadline instanceof TimerDeadline) || deadline.aborted) return;
    if (this.#spare.length >= MAX_SPARE_CONTROLLERS || this.#parent?.aborted) return;
    if (hasAbortListener(deadline.signal)) return;
    this.#spare.push(deadline.controller);
  }

  /** @internal whether the parent has aborted (a new deadline then aborts at once with `parentReason`). */
  get parentAborted(): boolean {
    return this.#parent?.aborted === true;
  }

  /** @internal */
  get parentReason(): unknown {
    return this.#parent?.reason;
  }

  /** @internal puts `d` in the list by its time (from the end: usually its place). */
  add(d: TimerDeadline): void {
    let after = this.#tail;
    while (after !== undefined && after.due > d.due) after = after.prev;
    d.prev = after;
    d.next = after === undefined ? this.#head : after.next;
    if (d.next === undefined) this.#tail = d;
    else d.next.prev = d;
    if (after === undefined) this.#head = d;
    else after.next = d;
    d.listed = true;
    if (this.#timer === undefined || d.due < this.#timerDue) this.#arm(d.due);
  }

  /** @internal takes `d` out of the list (the timer stays set for a later deadline unless none is left). */
  remove(d: TimerDeadline): void {
    if (d.firing) {
      d.firing = false;
      this.#firing.delete(d);
    }
    if (!d.listed) return;
    d.listed = false;
    if (d.prev === undefined) this.#head = d.next;
    else d.prev.next = d.next;
    if (d.next === undefined) this.#tail = d.prev;
    else d.next.prev = d.prev;
    d.prev = d.next = undefined;
    if (this.#head === undefined && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(due: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(onGroupTimer, Math.max(1, due - performance.now()), this);
  }

  /** @internal the timer ran: fires every deadline whose time has come, then waits for the next. */
  expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (let d = this.#head; d !== undefined && d.due <= now; d = this.#head) {
      this.remove(d);
      d.firing = true;
      this.#firing.add(d);
      d.fire(now);
    }
    if (this.#head !== undefined && this.#timer === undefined) this.#arm(this.#head.due);
  }

  /** Removes the listener on the parent; deadlines created earlier no longer follow it (their timer runs on). */
  dispose(): void {
    this.#parent?.removeEventListener('abort', this.#onAbort);
    this.#spare.length = 0;
  }
}

/**
 * The key of node's own listener map on an EventTarget (`Map<type, list>`, whose entry goes when the last
 * listener of the type does), where node has one: `getEventListeners` costs ~1 µs a call (a module lookup and
 * an array each time), once per recycled signal.
 */
const kEvents = Object.getOwnPropertySymbols(new AbortController().signal).find(
  (key) => key.description === 'kEvents',
);

/** node's listener map: its own Map subclass, not `instanceof` this realm's Map. */
type ListenerMap = { has?(type: string): boolean } | undefined;

/** Whether `signal` still has an `abort` listener. */
function hasAbortListener(signal: AbortSignal): boolean {
  const events =
    kEvents === undefined ? undefined : (signal as unknown as Record<symbol, ListenerMap>)[kEvents];
  if (typeof events?.has === 'function') return events.has('abort');
  return getEventListeners(signal, 'abort').length > 0;
}

/** Spare controllers a group keeps at most (one per check in flight is enough; more is only memory). */
const MAX_SPARE_CONTROLLERS = 4096;

function onGroupTimer(group: DeadlineGroup): void {
  group.expire();
}

/** One object per deadline, no closures: its group's timer fires it, its verdict gets it as argument. */
class TimerDeadline implements Deadline {
  readonly signal: AbortSignal;
  readonly at: number;
  readonly timeoutMs: number;
  /**
   * @internal when it fires, on the monotonic clock (`performance.now()`, as timers run: a step of the wall
   * clock neither fires it early nor holds it back); `at` is the same time on the wall clock.
   */
  readonly due: number;
  /** @internal the group's list. */
  prev: TimerDeadline | undefined;
  next: TimerDeadline | undefined;
  listed = false;
  /** @internal fired, its verdict pending (in its group's `#firing`). */
  firing = false;
  readonly #controller: AbortController;
  readonly #group: DeadlineGroup;
  readonly #ownsGroup: boolean;
  #verdict: NodeJS.Immediate | undefined;
  #timerLateMs: number | undefined;
  #watcher: (() => void) | undefined;
  #listener: AbortListener | undefined;
  #aborted = false;

  constructor(
    timeoutMs: number,
    group: DeadlineGroup,
    ownsGroup: boolean,
    controller: AbortController = new AbortController(),
  ) {
    this.#controller = controller;
    this.signal = controller.signal;
    this.at = Date.now() + timeoutMs;
    this.due = performance.now() + timeoutMs;
    this.timeoutMs = timeoutMs;
    this.#group = group;
    this.#ownsGroup = ownsGroup;
    if (group.parentAborted) {
      this.abortWith(group.parentReason ?? new CancelledError());
    } else {
      group.add(this);
    }
  }

  /** @internal for `DeadlineGroup.recycle`. */
  get controller(): AbortController {
    return this.#controller;
  }

  get timerLateMs(): number | undefined {
    return this.#timerLateMs;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  watch(watcher: (() => void) | undefined): void {
    this.#watcher = watcher;
    if (watcher && this.#aborted) this.#notify();
  }

  listen(listener: AbortListener | undefined): void {
    this.#listener = listener;
  }

  #notify(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    watcher?.();
  }

  dispose(): void {
    if (this.#verdict) clearImmediate(this.#verdict);
    this.#watcher = undefined;
    this.#listener = undefined;
    this.#group.remove(this);
    if (this.#ownsGroup) this.#group.dispose();
  }

  /** @internal the deadline's time came (its group's timer ran at `nowMs`, `performance.now()`). */
  fire(nowMs: number): void {
    this.#timerLateMs = Math.max(0, nowMs - this.due);
    // The timers phase runs before the poll phase. After the loop was blocked, an answer that arrived in
    // time is still unread in its socket: abort in the check phase, after the poll phase has read it.
    this.#verdict = setImmediate(onDeadlineVerdict, this);
  }

  /** @internal the verdict, one loop turn after the timer. */
  abort(): void {
    this.#verdict = undefined;
    this.#group.remove(this);
    this.abortWith(new DeadlineError(this.timeoutMs));
  }

  /** @internal aborts the signal (the deadline's verdict, or the parent's reason), then the watcher. */
  abortWith(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#controller.abort(reason);
    const listener = this.#listener;
    this.#listener = undefined;
    try {
      listener?.handleEvent();
    } finally {
      this.#notify();
    }
  }
}

function onDeadlineVerdict(deadline: TimerDeadline): void {
  deadline.abort();
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

/**
 * Waits for `promise`, or rejects with `signal.reason` as soon as `signal` aborts (the work itself goes on,
 * unobserved: use it for shared, bounded work such as a cached file read that other callers still await).
 */
export async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  const aborted = abortPromise(signal);
  try {
    return await Promise.race([promise, aborted.promise]);
  } finally {
    aborted.release();
  }
}

/** Sleeps `ms`, rejecting with the signal's reason when it aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, undefined, signal ? { signal } : undefined).catch((err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}
