import type { Writable } from 'node:stream';

/**
 * Writes text to a stream honouring backpressure: awaits 'drain' when the buffer is full, so a slow
 * stdout (a pipe into `less`, a full disk) slows the run instead of buffering without bound.
 * A closed pipe (EPIPE: `| head`) ends output quietly rather than crashing.
 */
export class TextOutput {
  #stream: Writable;
  #broken = false;

  constructor(stream: Writable) {
    this.#stream = stream;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.#broken = true;
      else throw err;
    });
  }

  /** True once the reader went away (EPIPE). */
  get broken(): boolean {
    return this.#broken;
  }

  async write(text: string): Promise<void> {
    if (this.#broken) return;
    if (!this.#stream.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#stream.off('drain', done);
          this.#stream.off('close', done);
          resolve();
        };
        this.#stream.on('drain', done);
        this.#stream.on('close', done);
      });
    }
  }

  /** Resolves once everything written so far is flushed to the OS. */
  flush(): Promise<void> {
    if (this.#broken || this.#stream.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.#stream.write('', () => resolve()));
  }
}
