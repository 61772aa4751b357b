import type { ServerResponse } from 'node:http';

/**
 * A server-sent-events stream on a raw response: `event:`/`data:` frames, comment heartbeats. `closed` is
 * aborted when the client goes away (or `end()` is called), so the producer stops.
 */
export class SseStream {
  readonly #res: ServerResponse;
  readonly #controller = new AbortController();
  readonly #onClose = () => this.#controller.abort();

  constructor(res: ServerResponse) {
    this.#res = res;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.on('close', this.#onClose);
    res.flushHeaders();
  }

  /** Aborted when the client disconnected or the stream ended. */
  get closed(): AbortSignal {
    return this.#controller.signal;
  }

  send(event: string, data: unknown): void {
    if (this.closed.aborted) return;
    this.#res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** A comment line: keeps proxies and idle timeouts from closing a quiet stream. */
  heartbeat(): void {
    if (!this.closed.aborted) this.#res.write(': ping\n\n');
  }

  end(): void {
    this.#res.off('close', this.#onClose);
    this.#controller.abort();
    if (!this.#res.writableEnded) this.#res.end();
  }
}

/** Default cap on event streams open at once (`--max-sse`). */
export const DEFAULT_MAX_SSE_STREAMS = 256;

/**
 * Counts open event streams against a cap: each stream holds memory and a socket for as long as its
 * client stays, so the server refuses more than `max` (503) instead of growing without bound.
 */
export class SseSlots {
  readonly max: number;
  #open = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max event streams must be >= 1, got ${max}`);
    this.max = max;
  }

  /** Streams open now. */
  get open(): number {
    return this.#open;
  }

  /** Takes a slot, or returns undefined when all are taken. The returned release is idempotent. */
  tryAcquire(): (() => void) | undefined {
    if (this.#open >= this.max) return undefined;
    this.#open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open--;
    };
  }
}
