/** Tunables of `AuthThrottle`. */
export interface AuthThrottleOptions {
  /** Failed authentications a client may make in a burst before it is refused (default 10). */
  readonly burst: number;
  /** One more failure is allowed per this many ms (default 6000: 10 per minute sustained). */
  readonly refillMs: number;
  /** Most clients tracked (default 10,000); the least recently failed are forgotten first. */
  readonly maxClients: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleOptions = Object.freeze({
  burst: 10,
  refillMs: 6000,
  maxClients: 10_000,
});

/**
 * Slows down token guessing, per client address: each client has a bucket of `burst` allowed failures,
 * refilled one per `refillMs`. A failed authentication takes one; while the bucket is empty every request
 * of that client that needs a token is refused (429 with Retry-After) before its token is even looked at,
 * so guesses stop being checked. A successful authentication takes nothing: clients with a valid token are
 * never slowed, unless their address also made the failures. Memory is bounded by `maxClients` (an address
 * whose bucket refilled is dropped; past the cap the least recently failed are dropped first).
 * `now` is injectable for tests (ms, monotonic).
 */
export class AuthThrottle {
  readonly #opts: AuthThrottleOptions;
  readonly #now: () => number;
  /** address -> failures not yet refilled, in ms of refill time, as of `at`; Map order = least recently failed first. */
  readonly #clients = new Map<string, { owedMs: number; at: number }>();

  constructor(options: Partial<AuthThrottleOptions> = {}, now: () => number = () => performance.now()) {
    this.#opts = { ...DEFAULT_AUTH_THROTTLE, ...options };
    this.#now = now;
  }

  /** Ms until `client` may try again; 0 when it may now. */
  retryAfterMs(client: string): number {
    return Math.max(0, Math.ceil(this.#owedMs(client) - (this.#opts.burst - 1) * this.#opts.refillMs));
  }

  /** Records a failed authentication of `client`. */
  failed(client: string): void {
    const owedMs = this.#owedMs(client) + this.#opts.refillMs;
    this.#clients.delete(client);
    this.#clients.set(client, { owedMs, at: this.#now() });
    while (this.#clients.size > this.#opts.maxClients) {
      const oldest = this.#clients.keys().next().value as string;
      this.#clients.delete(oldest);
    }
  }

  /** Clients tracked now (for tests and metrics). */
  get size(): number {
    return this.#clients.size;
  }

  #owedMs(client: string): number {
    const c = this.#clients.get(client);
    if (!c) return 0;
    const owedMs = c.owedMs - (this.#now() - c.at);
    if (owedMs <= 0) {
      this.#clients.delete(client);
      return 0;
    }
    return owedMs;
  }
}
