import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';

/** How long a lease lasts without a heartbeat, in ms (default 30 s). */
export const DEFAULT_LEASE_TTL_MS = 30_000;

export interface OwnerLeaseOptions {
  /** Lease duration in ms (default 30 s); a process silent for this long is taken for dead. */
  ttlMs?: number;
  /** Renewal period in ms (default a third of `ttlMs`). */
  heartbeatMs?: number;
  log?: Logger;
}

/**
 * The lease of a process that executes runs: an owner id stored with an expiry, renewed by a heartbeat.
 * Runs carry their owner's id; another process may mark a run `interrupted` only once its owner's lease
 * has expired (`Store.markInterrupted`). A renewal that fails is logged and retried at the next beat.
 */
export class OwnerLease {
  /** `host:pid:random`: unique per process life, readable in the store. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly ttlMs: number;
  readonly #store: Store;
  readonly #heartbeatMs: number;
  readonly #log: Logger | undefined;
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;

  constructor(store: Store, opts: OwnerLeaseOptions = {}) {
    this.#store = store;
    this.ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#heartbeatMs = opts.heartbeatMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    this.#log = opts.log;
  }

  /** Takes the lease and starts the heartbeat. Throws StoreError when the store refuses the first write. */
  async start(): Promise<void> {
    await this.#store.putLease(this.id, Date.now() + this.ttlMs);
    this.#timer = setInterval(() => this.#beat(), this.#heartbeatMs);
    this.#timer.unref(); // the lease never keeps a finished process alive
  }

  #beat(): void {
    if (this.#renewing) return;
    this.#renewing = this.#store
      .putLease(this.id, Date.now() + this.ttlMs)
      .catch((err: unknown) => this.#log?.warn({ err, owner: this.id }, 'lease not renewed'))
      .finally(() => {
        this.#renewing = undefined;
      });
  }

  /** Stops the heartbeat and ends the lease (best effort: an expired lease means the same). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#renewing;
    await this.#store.dropLease(this.id).catch((err: unknown) => {
      this.#log?.warn({ err, owner: this.id }, 'lease not released; it expires by itself');
    });
  }
}
