import { Worker } from 'node:worker_threads';

/**
 * How long the event loop may stay blocked past the deadline of an in-process user check still in flight
 * before the watchdog kills the process.
 */
export const STALL_KILL_GRACE_MS = 5_000;

/** The main thread proves it is alive this often; the watchdog looks as often. */
const TICK_MS = 250;
/** The main thread counts as blocked when it has not ticked for this long. */
const BLOCKED_AFTER_MS = 1_000;

// Plain CommonJS evaluated in the watchdog thread (no file to find from src/ or dist/).
const WATCHDOG_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const state = new BigInt64Array(workerData.shared);
let checks = workerData.checks;
parentPort.on('message', (m) => { checks = m; });
setInterval(() => {
  const now = BigInt(Date.now());
  const killAt = Atomics.load(state, 1);
  const lastTick = Atomics.load(state, 0);
  if (killAt === 0n || now <= killAt || now - lastTick <= BigInt(workerData.blockedAfterMs)) return;
  writeSync(2, 'fleetprobe: an in-process user check (' + checks + ') has blocked the event loop for ' +
    (now - lastTick) + ' ms, more than ' + workerData.graceMs + ' ms past its deadline; killing the process' +
    " (give the check isolate: 'thread' so that it can be terminated at its deadline)\\n");
  process.kill(process.pid, 'SIGKILL');
}, workerData.tickMs);
`;

/**
 * Ends the process when an in-process user check blocks the event loop (a synchronous loop) more than
 * `STALL_KILL_GRACE_MS` past the deadline of a check still in flight. JavaScript on a blocked main thread
 * cannot run (not even a SIGTERM handler), so the watchdog is a worker thread reading two numbers the main
 * thread keeps in shared memory: when it last ticked, and the earliest deadline in flight plus the grace.
 * It sends SIGKILL after one line on stderr: results already written stay written (stdout to a pipe or file
 * is synchronous), the rest of the run is lost. The thread is unref'd and never keeps the process alive.
 * Stopping only the blocking JavaScript (inspector `Runtime.terminateExecution` from this thread) was
 * tried and rejected: Node 20 then aborts on an internal assertion (InternalCallbackScope::Close) as the
 * terminated timer callback unwinds.
 */
export class StallWatchdog {
  readonly #state = new BigInt64Array(new SharedArrayBuffer(16)); // [0] last tick, [1] kill at (0: none)
  readonly #deadlines = new Map<number, number>();
  readonly #checks = new Set<string>();
  #nextId = 0;
  #worker: Worker | undefined;

  /** Names a check in the kill message; starts the watchdog thread on first use. */
  watch(check: string): void {
    this.#checks.add(check);
    const names = [...this.#checks].join(', ');
    if (this.#worker) {
      this.#worker.postMessage(names);
      return;
    }
    this.#tick();
    setInterval(() => this.#tick(), TICK_MS).unref();
    this.#worker = new Worker(WATCHDOG_SOURCE, {
      eval: true,
      workerData: {
        shared: this.#state.buffer,
        checks: names,
        graceMs: STALL_KILL_GRACE_MS,
        blockedAfterMs: BLOCKED_AFTER_MS,
        tickMs: TICK_MS,
      },
    });
    this.#worker.unref();
  }

  /**
   * Marks a check in flight until `release()` or until `signal` aborts (from then on the engine no longer
   * waits for it: a check that keeps running without blocking the loop is not a stall).
   */
  enter(deadlineAt: number, signal: AbortSignal): () => void {
    const id = this.#nextId++;
    const release = () => {
      signal.removeEventListener('abort', release);
      if (this.#deadlines.delete(id)) this.#update();
    };
    if (signal.aborted) return () => {};
    this.#deadlines.set(id, deadlineAt);
    signal.addEventListener('abort', release, { once: true });
    this.#update();
    return release;
  }

  #tick(): void {
    Atomics.store(this.#state, 0, BigInt(Date.now()));
  }

  #update(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const at of this.#deadlines.values()) if (at < earliest) earliest = at;
    const killAt = earliest === Number.POSITIVE_INFINITY ? 0 : earliest + STALL_KILL_GRACE_MS;
    Atomics.store(this.#state, 1, BigInt(killAt));
    // The loop is evidently running now: a stale tick must not count against a check just started.
    this.#tick();
  }
}
