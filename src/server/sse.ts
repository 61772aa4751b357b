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
