import type { Writable } from 'node:stream';

const CHUNK_BYTES = 64 * 1024;
/** A chunk buffer's size: a chunk is written once it reaches CHUNK_BYTES, so one more batch of lines fits. */
const BUFFER_BYTES = 2 * CHUNK_BYTES;
/** Chunk buffers kept for reuse once written. */
const FREE_KEPT = 4;
/** What `write` returns when there is nothing to wait for (compare to skip an `await` and its turn). */
export const WRITTEN: Promise<void> = Promise.resolve();

/** A status line sharing the terminal with the output (the CLI's progress line): cleared around each write. */
export interface StatusLine {
  hide(): void;
  show(): void;
}

export interface TextOutputOptions {
  /** Hidden before and shown after every chunk written, so rows never mix with it. */
  readonly statusLine?: StatusLine;
  /** Called once when the reader goes away (EPIPE), e.g. to cancel the run: nobody reads the rest. */
  readonly onClosed?: () => void;
}

/**
 * Writes text to a stream in chunks, honouring backpressure. Lines are gathered and written at most every
 * 64 KiB or once per event-loop turn: one write per result cost a syscall each (14% of a DNS bulk run's
 * CPU). They are copied into a few chunk buffers reused once written, so bytes handed to `write` are the
 * caller's again as soon as it returns (the thread executor gives a thread's line buffer back to it) and a
 * run allocates no buffer per chunk. When the stream's buffer is full, `write` awaits 'drain', so a slow
 * stdout (a pipe into `less`, a full disk) slows the run instead of buffering without bound. A closed pipe
 * (EPIPE: `| head`) ends output quietly rather than crashing, and `onClosed` lets the caller stop the work
 * nobody will read.
 */
export class TextOutput {
  #stream: Writable;
  #broken = false;
  #buffer: Buffer | undefined;
  #length = 0;
  readonly #free: Buffer[] = [];
  #tick: NodeJS.Immediate | undefined;
  readonly #statusLine: StatusLine | undefined;

  constructor(stream: Writable, options: TextOutputOptions = {}) {
    this.#stream = stream;
    this.#statusLine = options.statusLine;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      if (this.#broken) return;
      this.#broken = true;
      this.#length = 0;
      options.onClosed?.();
    });
  }

  /** True once the reader went away (EPIPE). */
  get broken(): boolean {
    return this.#broken;
  }

  /**
   * Not async: unless the stream is full, a write (one per result) costs no promise of its own. Bytes are
   * UTF-8 text (lines encoded where they were made: copied with no conversion); they are copied before
   * `write` returns.
   */
  write(text: string | Uint8Array): Promise<void> {
    if (this.#broken) return WRITTEN;
    // A string needs at most 3 bytes per UTF-16 unit: its exact length is counted only when that may not fit.
    const room = BUFFER_BYTES - this.#length;
    const bytes =
      typeof text !== 'string' ? text.byteLength : text.length * 3 <= room ? 0 : Buffer.byteLength(text);
    if (bytes > room) this.#writePending();
    if (bytes > BUFFER_BYTES) {
      this.#writeChunk(typeof text === 'string' ? text : Buffer.from(text));
    } else {
      const buffer = this.#chunkBuffer();
      if (typeof text === 'string') this.#length += buffer.write(text, this.#length);
      else {
        buffer.set(text, this.#length);
        this.#length += text.byteLength;
      }
      if (this.#length >= CHUNK_BYTES) this.#writePending();
      else this.#tick ??= setImmediate(() => this.#writePending());
    }
    return this.#stream.writableNeedDrain ? this.#drained() : WRITTEN;
  }

  /** Resolves once everything written so far is handed to the OS. */
  async flush(): Promise<void> {
    this.#writePending();
    if (this.#broken || this.#stream.writableLength === 0) return;
    await new Promise<void>((resolve) => this.#stream.write('', () => resolve()));
  }

  #chunkBuffer(): Buffer {
    this.#buffer ??= this.#free.pop() ?? Buffer.allocUnsafeSlow(BUFFER_BYTES);
    return this.#buffer;
  }

  #writePending(): void {
    if (this.#tick) clearImmediate(this.#tick);
    this.#tick = undefined;
    const buffer = this.#buffer;
    if (buffer === undefined || this.#length === 0 || this.#broken) return;
    const chunk = buffer.subarray(0, this.#length);
    this.#buffer = undefined;
    this.#length = 0;
    this.#writeChunk(chunk, () => {
      if (this.#free.length < FREE_KEPT) this.#free.push(buffer);
    });
  }

  #writeChunk(chunk: string | Buffer, written?: () => void): void {
    this.#statusLine?.hide();
    this.#stream.write(chunk, written);
    this.#statusLine?.show();
  }

  #drained(): Promise<void> {
    return new Promise<void>((resolve) => {
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
