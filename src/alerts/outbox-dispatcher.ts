import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { describeError } from '../core/errors.js';
import type { AlertStore, OutboxRow } from '../store/alert-store.js';
import { NotifyError } from './errors.js';
import type { Notifier } from './notifiers/notifier.js';

export interface OutboxDispatcherOptions {
  readonly store: AlertStore;
  readonly notifiers: readonly Notifier[];
  /** This process's lease owner id (default `host:pid:random`). */
  readonly owner?: string;
  /** How long a claim holds a row; a process that dies mid-delivery releases it when this expires (default 60 s). */
  readonly leaseMs?: number;
  /** Rows claimed per pass (default 32); they are sent concurrently. */
  readonly batch?: number;
  /** First retry delay, doubled per attempt up to `maxBackoffMs` (defaults 1 s and 5 min). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A notification still undelivered this long after it was enqueued is given up (default 24 h). */
  readonly giveUpAfterMs?: number;
  /** Longest sleep between passes when nothing is due sooner (default 5 s). */
  readonly pollMs?: number;
  readonly log?: Logger;
}

/** Deliveries per notifier since start, for /metrics. */
export interface DeliveryCounters {
  delivered: number;
  /** Failed attempts (each then retried or given up). */
  failed: number;
  /** Failed attempts scheduled for another try. */
  retried: number;
  gaveUp: number;
}

/** What one pass did. */
export interface PassOutcome {
  readonly claimed: number;
  readonly delivered: number;
  readonly retried: number;
  readonly gaveUp: number;
}

/**
 * Delivers the outbox: claims due rows with a lease, sends each through its notifier, marks it delivered, or
 * schedules a retry with exponential backoff (`backoffMs x 2^(attempts-1)`, capped), or gives up (a permanent
 * refusal, an unknown notifier, or older than `giveUpAfterMs`). At least once: a row is marked only after its
 * receiver accepted it, so a process killed mid-delivery leaves a lease that expires, and the next
 * dispatcher (this process restarted, or another) sends the row again. Receivers see the same alert
 * identity each time (Alertmanager: its labels; webhooks: `X-Fleetprobe-Delivery`).
 *
 * `start()` runs passes in the background until `stop()`; `deliverDue()` runs one pass (tests, shutdown).
 * Time is read from `Date.now()` (fake timers control it in tests).
 */
export class OutboxDispatcher {
  readonly owner: string;
  readonly #store: AlertStore;
  #notifiers = new Map<string, Notifier>();
  readonly #leaseMs: number;
  readonly #batch: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #giveUpAfterMs: number;
  readonly #pollMs: number;
  readonly #log: Logger | undefined;
  readonly #counters = new Map<string, DeliveryCounters>();
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** A wake() that came while a pass ran: the loop goes again instead of sleeping. */
  #woken = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: OutboxDispatcherOptions) {
    this.#store = opts.store;
    this.setNotifiers(opts.notifiers);
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.#leaseMs = opts.leaseMs ?? 60_000;
    this.#batch = opts.batch ?? 32;
    this.#backoffMs = opts.backoffMs ?? 1000;
    this.#maxBackoffMs = opts.maxBackoffMs ?? 300_000;
    this.#giveUpAfterMs = opts.giveUpAfterMs ?? 86_400_000;
    this.#pollMs = opts.pollMs ?? 5000;
    this.#log = opts.log;
  }

  /** Replaces the notifiers (config reload); rows of a notifier that is gone are given up when claimed. */
  setNotifiers(notifiers: readonly Notifier[]): void {
    this.#notifiers = new Map(notifiers.map((n) => [n.name, n]));
  }

  /** Deliveries per notifier since this dispatcher started. */
  get counters(): ReadonlyMap<string, Readonly<DeliveryCounters>> {
    return this.#counters;
  }

  /** The delay before attempt `attempts + 1`, in ms. */
  backoffAfter(attempts: number): number {
    return Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** Math.max(0, attempts - 1));
  }

  /** One pass: claims the due rows and delivers them concurrently. Store failures reject. */
  async deliverDue(): Promise<PassOutcome> {
    const rows = await this.#store.claimOutbox({
      owner: this.owner,
      limit: this.#batch,
      leaseMs: this.#leaseMs,
      nowMs: Date.now(),
    });
    const outcomes = await Promise.all(rows.map((row) => this.#deliver(row)));
    return {
      claimed: rows.length,
      delivered: outcomes.filter((o) => o === 'delivered').length,
      retried: outcomes.filter((o) => o === 'retried').length,
      gaveUp: outcomes.filter((o) => o === 'gave_up').length,
    };
  }

  async #deliver(row: OutboxRow): Promise<'delivered' | 'retried' | 'gave_up'> {
    const counters = this.#countersOf(row.notifier);
    const notifier = this.#notifiers.get(row.notifier);
    if (!notifier) {
      await this.#store.finishOutbox(
        row.id,
        'gave_up',
        Date.now(),
        `notifier "${row.notifier}" is not configured`,
      );
      counters.gaveUp++;
      return 'gave_up';
    }
    try {
      await notifier.send(row.notification, {
        signal: this.#abort.signal,
        deliveryId: row.dedupKey,
      });
    } catch (err) {
      counters.failed++;
      const why = describeError(err);
      const nowMs = Date.now();
      const permanent = err instanceof NotifyError && !err.retryable;
      const tooOld = nowMs - Date.parse(row.createdAt) > this.#giveUpAfterMs;
      if ((permanent || tooOld) && !this.#abort.signal.aborted) {
        this.#log?.warn({ notifier: row.notifier, id: row.id, err: why }, 'notification given up');
        await this.#store.finishOutbox(row.id, 'gave_up', nowMs, why);
        counters.gaveUp++;
        return 'gave_up';
      }
      const next = this.#abort.signal.aborted ? nowMs : nowMs + this.backoffAfter(row.attempts);
      this.#log?.info(
        { notifier: row.notifier, id: row.id, attempts: row.attempts, err: why },
        'notification will be retried',
      );
      await this.#store.retryOutbox(row.id, next, why, nowMs);
      counters.retried++;
      return 'retried';
    }
    await this.#store.finishOutbox(row.id, 'delivered', Date.now());
    counters.delivered++;
    return 'delivered';
  }

  #countersOf(notifier: string): DeliveryCounters {
    let c = this.#counters.get(notifier);
    if (!c) {
      c = { delivered: 0, failed: 0, retried: 0, gaveUp: 0 };
      this.#counters.set(notifier, c);
    }
    return c;
  }

  /** Starts background passes: right away, after `wake()`, when the next retry is due, at least every `pollMs`. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Asks for a pass now (after enqueueing). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Stops: aborts sends in flight (their rows are released for an immediate retry by the next dispatcher) and
   * waits for the current pass. Notifiers are not closed (their owner closes them).
   */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      this.#woken = false;
      let waitMs = this.#pollMs;
      try {
        // A pass that delivered may have unblocked the next row of the same alert: go again at once.
        const pass = await this.deliverDue();
        if (pass.claimed > 0) waitMs = 0;
        else {
          const nowMs = Date.now();
          const next = await this.#store.nextOutboxAttemptMs(nowMs);
          if (next !== null) waitMs = Math.min(waitMs, Math.max(0, next - nowMs));
        }
      } catch (err) {
        this.#log?.warn({ err }, 'outbox pass failed; trying again');
      }
      if (signal.aborted) break;
      if (this.#woken) continue;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, waitMs);
        this.#timer.unref();
      });
      clearTimeout(this.#timer);
      this.#wake = undefined;
    }
  }
}
