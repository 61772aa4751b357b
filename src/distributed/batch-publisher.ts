import type { Result } from '../engine/result.js';

/** Publishes one message built from pre-serialised results. */
export type PublishBatch = (resultsJson: readonly string[], final: boolean) => Promise<void>;

export interface BatchPublisherOptions {
  /** Most results per message (default 100). */
  readonly maxResults?: number;
  /** Most bytes of results per message (default 512 KiB; the stream's max message size is the hard cap). */
  readonly maxBytes?: number;
  /** A partial batch waits at most this long before it is sent (default 200 ms). */
  readonly maxDelayMs?: number;
  /** A single result larger than this has its `data` dropped (default `maxBytes`). */
  readonly maxResultBytes?: number;
}

/**
 * Collects a shard's results into messages, sends them one at a time and in order (so the `final`
 * message is the last), and applies backpressure: `add()` waits while a full batch is being published.
 * A publish failure is kept and rethrown by the next `add()`/`finish()`: the caller hands the shard back.
 */
export class BatchPublisher {
  readonly #publish: PublishBatch;
  readonly #maxResults: number;
  readonly #maxBytes: number;
  readonly #maxResultBytes: number;
  #batch: string[] = [];
  #bytes = 0;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown;
  #timer: NodeJS.Timeout;
  /** Results handed to `publish` and acknowledged. */
  published = 0;

  constructor(publish: PublishBatch, options: BatchPublisherOptions = {}) {
    this.#publish = publish;
    this.#maxResults = options.maxResults ?? 100;
    this.#maxBytes = options.maxBytes ?? 512 * 1024;
    this.#maxResultBytes = options.maxResultBytes ?? this.#maxBytes;
    this.#timer = setInterval(() => {
      if (this.#batch.length > 0) void this.#send(false);
    }, options.maxDelayMs ?? 200);
    this.#timer.unref();
  }

  async add(result: Result): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    let json = JSON.stringify(result);
    if (json.length > this.#maxResultBytes) {
      json = JSON.stringify({ ...result, data: { truncated: true, bytes: json.length } });
    }
    if (this.#bytes + json.length > this.#maxBytes && this.#batch.length > 0) await this.#send(false);
    this.#batch.push(json);
    this.#bytes += json.length + 1;
    if (this.#batch.length >= this.#maxResults) await this.#send(false);
    if (this.#error !== undefined) throw this.#error;
  }

  /** Sends what is left as the `final` message and waits for every publish to be acknowledged. */
  async finish(): Promise<void> {
    clearInterval(this.#timer);
    await this.#send(true);
    if (this.#error !== undefined) throw this.#error;
  }

  /** Stops the timer without sending anything more (hand-back). */
  abandon(): void {
    clearInterval(this.#timer);
    this.#batch = [];
  }

  #send(final: boolean): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    this.#bytes = 0;
    this.#chain = this.#chain.then(async () => {
      if (this.#error !== undefined) return;
      try {
        await this.#publish(batch, final);
        this.published += batch.length;
      } catch (err) {
        this.#error = err;
      }
    });
    return this.#chain;
  }
}
