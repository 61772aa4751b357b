import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import * as z from 'zod';
import { delay } from '../core/deadline.js';
import { describeError } from '../core/errors.js';
import type { Target } from '../targets/target.js';
import { decodeMessage, encodeJson } from './messages.js';

/**
 * A run's `ratePerSec` is global in distributed mode (and over threads): the coordinator holds the run's one token bucket and
 * workers ask it for grants on `<p>.rate.<runId>` (core NATS request/reply). A grant is a reserved,
 * disjoint time window: `count` starts spaced `intervalMs` apart beginning `startInMs` from now, so the
 * workers together never start more than `ratePerSec` checks per second, however many come and go.
 */
export const rateRequestSchema = z.object({ v: z.literal(1), worker: z.string() });
export const rateGrantSchema = z.object({
  v: z.literal(1),
  count: z.number().int().min(1),
  startInMs: z.number().min(0),
  intervalMs: z.number().positive(),
});
export type RateGrant = z.infer<typeof rateGrantSchema>;

/** Most time one grant covers: small enough that a worker that dies wastes little of the rate. */
const GRANT_WINDOW_MS = 100;

/**
 * A run's one token bucket as a reservation clock (GCRA): `reserve()` hands out the next `count` start slots
 * after the last reserved one (or after now, when idle); an idle bucket does not accumulate a burst. Whoever
 * holds the run's rate keeps one: the coordinator (`RateGrantServer`, over NATS) or the thread executor's
 * main thread (over MessagePorts).
 */
export class GrantClock {
  readonly #intervalMs: number;
  readonly #grantMax: number;
  #nextAt = 0;

  constructor(ratePerSec: number) {
    if (!(ratePerSec > 0)) throw new RangeError(`rate must be > 0, got ${ratePerSec}`);
    this.#intervalMs = 1000 / ratePerSec;
    this.#grantMax = Math.max(1, Math.floor(GRANT_WINDOW_MS / this.#intervalMs));
  }

  reserve(now = performance.now()): RateGrant {
    const start = Math.max(now, this.#nextAt);
    this.#nextAt = start + this.#grantMax * this.#intervalMs;
    return { v: 1, count: this.#grantMax, startInMs: start - now, intervalMs: this.#intervalMs };
  }
}

/** The coordinator's side: answers grant requests for one run from its `GrantClock`. `close()` unsubscribes. */
export class RateGrantServer {
  readonly #sub: Subscription;
  readonly #clock: GrantClock;

  constructor(nc: NatsConnection, subject: string, ratePerSec: number, log: Logger) {
    this.#clock = new GrantClock(ratePerSec);
    this.#sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        try {
          decodeMessage(rateRequestSchema, msg.subject, msg.data);
          msg.respond(encodeJson(this.#clock.reserve()));
        } catch (e) {
          log.warn({ err: describeError(e) }, 'bad rate request ignored');
        }
      },
    });
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}

/** What paces starts: resolves when one check may start, rejects with `signal.reason` when it aborts first. */
export interface StartGrants {
  acquire(signal: AbortSignal): Promise<void>;
}

/** Asks the holder of a run's rate for the next grant (rejects when it cannot be reached). */
export type FetchGrant = (signal: AbortSignal) => Promise<RateGrant>;

/**
 * The worker's side for one run, shared by every shard of that run the worker (or thread) holds: `acquire()`
 * waits for the next start slot of the current grant and fetches a new grant when it is used up. While the
 * holder does not answer (restarting, no responders) it retries with backoff: a rate-limited run pauses
 * rather than exceeding its rate. Callers are served one at a time, in order.
 */
export class RateGrantClient implements StartGrants {
  readonly #fetch: FetchGrant;
  readonly #log: Logger;
  #left = 0;
  #nextAt = 0;
  #intervalMs = 0;
  #queue: Promise<void> = Promise.resolve();

  constructor(fetch: FetchGrant, log: Logger) {
    this.#fetch = fetch;
    this.#log = log;
  }

  /** A client that asks the coordinator on `subject` (core NATS request/reply). */
  static overNats(nc: NatsConnection, subject: string, worker: string, log: Logger): RateGrantClient {
    return new RateGrantClient(async () => {
      const reply = await nc.request(subject, encodeJson({ v: 1, worker }), { timeout: 2000 });
      return decodeMessage(rateGrantSchema, subject, reply.data);
    }, log);
  }

  /** Resolves when one check may start; rejects with `signal.reason` when it aborts first. */
  acquire(signal: AbortSignal): Promise<void> {
    const turn = this.#queue.then(() => this.#takeOne(signal));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #takeOne(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#left === 0) await this.#refill(signal);
    const at = this.#nextAt;
    this.#nextAt += this.#intervalMs;
    this.#left--;
    const waitMs = at - performance.now();
    if (waitMs > 0) await delay(waitMs, signal);
  }

  async #refill(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      signal.throwIfAborted();
      try {
        const grant = await this.#fetch(signal);
        this.#left = grant.count;
        this.#intervalMs = grant.intervalMs;
        this.#nextAt = performance.now() + grant.startInMs;
        return;
      } catch (err) {
        signal.throwIfAborted();
        this.#log.debug({ err: describeError(err), attempt }, 'no rate grant yet; retrying');
        await delay(Math.min(2000, 100 * 2 ** attempt), signal);
      }
    }
  }
}

/**
 * Yields `targets`, each after `limiter.acquire()`: the engine pulls a target just before starting it, so
 * this paces starts without the engine knowing. Once `signal` aborts, the rest is yielded at once (the
 * engine turns them into `cancelled` results).
 */
export async function* pacedTargets(
  targets: Iterable<Target> | AsyncIterable<Target>,
  limiter: StartGrants,
  signal: AbortSignal,
): AsyncGenerator<Target> {
  for await (const t of targets) {
    if (!signal.aborted) await limiter.acquire(signal).catch(() => undefined);
    yield t;
  }
}
